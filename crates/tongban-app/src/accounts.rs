//! Staff accounts: created by an administrator, with the password policy of their role and
//! the hash computed off the async runtime.

use crate::error::Error;
use crate::App;
use tongban_core::roles::Role;
use tongban_store::accounts::{NewUser, User};

/// Creates a user (`role` by code or label); the password follows the role's policy.
pub async fn create_user(
    app: &App,
    actor: &str,
    username: &str,
    display_name: &str,
    password: &str,
    role: &str,
    department: Option<i64>,
) -> Result<User, Error> {
    let role = Role::parse(role).ok_or_else(|| Error::invalid(format!("未知角色：{role}")))?;
    tongban_core::password::check(role, password).map_err(Error::invalid)?;
    let pw = password.to_string();
    let hash = tokio::task::spawn_blocking(move || tongban_store::accounts::hash_password(&pw))
        .await
        .map_err(Error::internal)??;
    let new = NewUser {
        username,
        password,
        display_name,
        role,
        department_id: department,
    };
    Ok(app.store.create_user(actor, &new, &hash, app.now()).await?)
}
