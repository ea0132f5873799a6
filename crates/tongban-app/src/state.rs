//! The application: the store, the clock, the outer services and the views cached per
//! node (catalog, working-day calendar).

use crate::clock::Clock;
use crate::error::Error;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::RwLock;
use tongban_core::calendar::{WorkCalendar, YearTable};
use tongban_core::catalog::{DepthLevel, Item};
use tongban_core::indicators::{catalog_stats, grouped_stats, CatalogStats};
use tongban_store::catalog::{Department, Hall, ItemStatus, StoredItem};
use tongban_store::Store;

/// A calendar with the revision it was built at.
type CalendarAt = (i64, Arc<WorkCalendar>);

#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub objects: tongban_store::objects::ObjectStore,
    pub sms: Arc<dyn crate::notify::SmsGateway>,
    /// Supervision thresholds (configuration).
    pub thresholds: tongban_core::supervision::Thresholds,
    /// The public address of this platform, used in licences (status lists, keys, QR).
    pub base_url: String,
    /// The deployment's 行政区划代码, the prefix of every 办件编号 (configuration).
    pub region: tongban_core::codes::RegionCode,
    /// Injected failures (tests with the `faults` feature only).
    pub faults: Arc<crate::jobs::Faults>,
    /// Session limits and audit retention (configuration).
    pub security: crate::security::SecurityPolicy,
    /// 差评 rectification period in working days (a local setting; 回访 is always 1).
    pub rating_rectify_days: u32,
    /// Appointments, queue and parcel tracking rules (configuration).
    pub hall: crate::hall::HallPolicy,
    /// Runs after a case's events are stored: moves the 一件事 the case belongs to on
    /// (`bundles::case_hook`), without the case module depending on bundles.
    pub after_case_change: CaseHook,
    catalog: Arc<RwLock<Option<Arc<CatalogView>>>>,
    calendar: Arc<RwLock<Option<CalendarAt>>>,
}

/// Everything the public pages read, rebuilt when the catalog revision changes (on any
/// node: the revision lives in the database).
pub struct CatalogView {
    pub rev: i64,
    pub items: Vec<StoredItem>,
    pub by_code: HashMap<String, usize>,
    pub departments: Vec<Department>,
    pub halls: Vec<Hall>,
    pub stats: CatalogStats,
    pub by_department: Vec<(Department, CatalogStats)>,
    pub by_hall: Vec<(String, CatalogStats)>,
    pub item_counts: HashMap<i64, usize>,
    /// Pinyin initials of each item's name, by 实施编码 (search by 首字母).
    pub initials: HashMap<String, String>,
    /// Full pinyin of each item's name, by 实施编码 (search by 全拼).
    pub pinyin: HashMap<String, String>,
}

/// A follow-up of a case change (see [`App::after_case_change`]).
pub type CaseHook =
    for<'a> fn(
        &'a App,
        &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

impl CatalogView {
    pub fn active(&self) -> impl Iterator<Item = &StoredItem> {
        self.items.iter().filter(|i| i.status == ItemStatus::Active)
    }
    pub fn get(&self, impl_code: &str) -> Option<&StoredItem> {
        self.by_code.get(impl_code).map(|i| &self.items[*i])
    }
    pub fn department(&self, id: i64) -> Option<&Department> {
        self.departments.iter().find(|d| d.id == id)
    }
    pub fn hall(&self, id: i64) -> Option<&Hall> {
        self.halls.iter().find(|h| h.id == id)
    }
    pub fn hall_by_name(&self, name: &str) -> Option<&Hall> {
        self.halls.iter().find(|h| h.name == name)
    }
    pub fn depth_level(item: &Item) -> DepthLevel {
        item.depth_level()
    }
}

impl App {
    pub fn new(store: Store, clock: Arc<dyn Clock>, data_dir: &std::path::Path) -> Self {
        App {
            store,
            clock,
            objects: tongban_store::objects::ObjectStore::new(data_dir.join("objects")),
            sms: Arc::new(crate::notify::LoggingSms),
            thresholds: tongban_core::supervision::Thresholds::default(),
            base_url: "http://127.0.0.1:8080".into(),
            faults: Arc::default(),
            region: tongban_core::codes::RegionCode::parse("431900").expect("demo region code"),
            security: crate::security::SecurityPolicy::default(),
            rating_rectify_days: tongban_core::rating::DEFAULT_RECTIFY_WORKING_DAYS,
            hall: crate::hall::HallPolicy::default(),
            after_case_change: crate::bundles::case_hook,
            catalog: Arc::new(RwLock::new(None)),
            calendar: Arc::new(RwLock::new(None)),
        }
    }

    /// Today in Beijing: the date the legal clock counts in.
    pub fn today(&self) -> chrono::NaiveDate {
        let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
        self.now().with_timezone(&tz).date_naive()
    }

    /// The working-day calendar: the shipped years plus the years administrators loaded.
    pub async fn calendar(&self) -> Result<Arc<WorkCalendar>, Error> {
        let rev = self.store.calendar_rev().await?;
        if let Some((r, cal)) = self.calendar.read().await.as_ref() {
            if *r == rev {
                return Ok(cal.clone());
            }
        }
        let mut cal = WorkCalendar::builtin();
        for stored in self.store.calendar_years().await? {
            let year = stored.year;
            match YearTable::parse(&stored.source) {
                Ok(t) => cal.insert_year(t),
                Err(e) => tracing::error!(year, error = %e, "stored calendar year does not parse"),
            }
        }
        let cal = Arc::new(cal);
        *self.calendar.write().await = Some((rev, cal.clone()));
        Ok(cal)
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The current catalog view; one cheap query checks that it is still fresh.
    pub async fn catalog(&self) -> Result<Arc<CatalogView>, Error> {
        let rev = self.store.catalog_rev().await?;
        if let Some(v) = self.catalog.read().await.as_ref() {
            if v.rev == rev {
                return Ok(v.clone());
            }
        }
        let mut guard = self.catalog.write().await;
        if let Some(v) = guard.as_ref() {
            if v.rev == rev {
                return Ok(v.clone());
            }
        }
        let view = Arc::new(self.build_view(rev).await?);
        *guard = Some(view.clone());
        Ok(view)
    }

    async fn build_view(&self, rev: i64) -> Result<CatalogView, Error> {
        let items = self.store.all_items().await?;
        let departments = self.store.departments().await?;
        let halls = self.store.halls().await?;
        let active: Vec<Item> = items
            .iter()
            .filter(|i| i.status == ItemStatus::Active)
            .map(|i| i.item.clone())
            .collect();
        let stats = catalog_stats(&active);
        let by_dept = grouped_stats(&active, |i| i.department_code.to_string());
        let by_department = departments
            .iter()
            .filter_map(|d| by_dept.get(&d.code).map(|s| (d.clone(), s.clone())))
            .collect();
        let by_hall = grouped_stats(&active, |i| {
            if i.hall.is_empty() {
                "（未指定办理地点）".to_string()
            } else {
                i.hall.clone()
            }
        })
        .into_iter()
        .collect();
        let mut item_counts = HashMap::new();
        for i in items.iter().filter(|i| i.status == ItemStatus::Active) {
            *item_counts.entry(i.department_id).or_insert(0) += 1;
        }
        let by_code = items
            .iter()
            .enumerate()
            .map(|(n, i)| (i.item.impl_code.clone(), n))
            .collect();
        let initials = items
            .iter()
            .map(|i| {
                (
                    i.item.impl_code.clone(),
                    tongban_core::search::initials(&i.item.name),
                )
            })
            .collect();
        let pinyin = items
            .iter()
            .map(|i| {
                (
                    i.item.impl_code.clone(),
                    tongban_core::search::full_pinyin(&i.item.name),
                )
            })
            .collect();
        Ok(CatalogView {
            initials,
            pinyin,
            rev,
            items,
            by_code,
            departments,
            halls,
            stats,
            by_department,
            by_hall,
            item_counts,
        })
    }
}
