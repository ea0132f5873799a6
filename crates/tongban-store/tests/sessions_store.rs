//! Sessions expire and are purged: at the user's next login, and by the background sweep.

use chrono::{Duration, TimeZone, Utc};
use tongban_core::roles::Role;
use tongban_store::accounts::{hash_password, NewUser};
use tongban_store::testing::TestDb;

#[tokio::test]
async fn expired_sessions_are_purged_at_login_and_by_the_sweep() {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
    let hash = hash_password("correct-horse-9").unwrap();
    for db in TestDb::all().await {
        let mut ids = Vec::new();
        for name in ["sess_a", "sess_b"] {
            let u = NewUser {
                username: name,
                password: "correct-horse-9",
                display_name: name,
                role: Role::Clerk,
                department_id: None,
            };
            ids.push(db.store.create_user("t", &u, &hash, t0).await.unwrap().id);
        }
        let (_, a_old) = db
            .store
            .login("sess_a", "correct-horse-9", t0)
            .await
            .unwrap()
            .unwrap();
        db.store
            .login("sess_b", "correct-horse-9", t0)
            .await
            .unwrap()
            .unwrap();
        // Still live an hour later: nothing to purge.
        let t1 = t0 + Duration::hours(1);
        assert_eq!(db.store.purge_expired_sessions(t1).await.unwrap(), 0);
        assert!(db.store.session_user(&a_old, t1).await.unwrap().is_some());
        // A day later: a's next login removes a's expired session, b's stays for the sweep.
        let t2 = t0 + Duration::hours(24);
        db.store
            .login("sess_a", "correct-horse-9", t2)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            db.store.session_count(ids[0]).await.unwrap(),
            1,
            "{:?}",
            db.backend
        );
        assert_eq!(db.store.session_count(ids[1]).await.unwrap(), 1);
        assert!(db.store.session_user(&a_old, t2).await.unwrap().is_none());
        assert_eq!(db.store.purge_expired_sessions(t2).await.unwrap(), 1);
        assert_eq!(db.store.session_count(ids[1]).await.unwrap(), 0);
        assert_eq!(
            db.store.session_count(ids[0]).await.unwrap(),
            1,
            "the live one stays"
        );
        db.cleanup().await;
    }
}
