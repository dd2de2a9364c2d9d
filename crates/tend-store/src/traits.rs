//! Traits of accounts and contacts from Segment `group` and `identify` calls: the
//! fields of the data model they name, and the other traits merged into a JSON
//! object per row (a later value of a trait wins; null removes it).

use chrono::NaiveDate;

use crate::{on_backend, Result, Store, Transaction, TxConn};

/// A `group` call's word on its account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountTraits<'a> {
    pub name: Option<&'a str>,
    pub industry: Option<&'a str>,
    /// A JSON object.
    pub other: &'a str,
}

/// An `identify` call's word on its user, a contact of `account_id`: the contact
/// with that email, or else one kept under the user's id.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactTraits<'a> {
    pub account_id: &'a str,
    pub user_id: &'a str,
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub title: Option<&'a str>,
    /// A JSON object.
    pub other: &'a str,
    /// The day of the call: when a new contact joined.
    pub day: NaiveDate,
}

/// `column` (a traits column) merged with the JSON object of parameter `param`,
/// per backend.
fn merged(tx: &TxConn, column: &str, param: &str) -> String {
    match tx {
        TxConn::Sqlite(_) => format!("json_patch({column}, {param})"),
        TxConn::Postgres(_) => {
            format!("jsonb_strip_nulls({column}::jsonb || {param}::jsonb)::text")
        }
    }
}

impl Transaction {
    /// Sets what a group call says of a stored account; `false` if there is none.
    pub async fn apply_account_traits(
        &mut self,
        id: &str,
        traits: &AccountTraits<'_>,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE accounts SET name = COALESCE($2, name), industry = COALESCE($3, industry), \
             traits = {} WHERE id = $1",
            merged(&self.tx, "traits", "$4")
        );
        let done = crate::on_tx!(&mut self.tx, conn => {
            sqlx::query(&sql)
                .bind(id)
                .bind(traits.name)
                .bind(traits.industry)
                .bind(traits.other)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Sets what an identify call says of its user's contact, adding the contact (a
    /// `user`, id `segment:` and the user id) when the account has none with that
    /// email.
    pub async fn apply_contact_traits(&mut self, traits: &ContactTraits<'_>) -> Result<()> {
        let update = format!(
            "UPDATE contacts SET name = COALESCE($3, name), title = COALESCE($4, title), \
             traits = {} WHERE account_id = $1 AND lower(email) = lower($2)",
            merged(&self.tx, "traits", "$5")
        );
        let updated = crate::on_tx!(&mut self.tx, conn => {
            sqlx::query(&update)
                .bind(traits.account_id)
                .bind(traits.email)
                .bind(traits.name)
                .bind(traits.title)
                .bind(traits.other)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        });
        if updated > 0 {
            return Ok(());
        }
        let insert = format!(
            "INSERT INTO contacts (id, account_id, name, email, title, role, joined_on, traits) \
             VALUES ($1, $2, COALESCE($3, $4), $4, $5, 'user', $6, $7) \
             ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, \
             name = COALESCE($3, contacts.name), email = excluded.email, \
             title = COALESCE($5, contacts.title), traits = {}",
            merged(&self.tx, "contacts.traits", "$7")
        );
        crate::on_tx!(&mut self.tx, conn => {
            sqlx::query(&insert)
                .bind(format!("segment:{}", traits.user_id))
                .bind(traits.account_id)
                .bind(traits.name)
                .bind(traits.email)
                .bind(traits.title)
                .bind(traits.day)
                .bind(traits.other)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }
}

impl Store {
    /// The kept traits of an account or a contact (`table` is `accounts` or
    /// `contacts`), as a JSON object; `None` for an unknown id.
    pub async fn traits_of(&self, table: TraitTable, id: &str) -> Result<Option<String>> {
        let sql = format!("SELECT traits FROM {} WHERE id = $1", table.name());
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_scalar(&sql).bind(id).fetch_optional(pool).await?
        }))
    }
}

/// The tables that keep traits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraitTable {
    Accounts,
    Contacts,
}

impl TraitTable {
    fn name(self) -> &'static str {
        match self {
            TraitTable::Accounts => "accounts",
            TraitTable::Contacts => "contacts",
        }
    }
}
