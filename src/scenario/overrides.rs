//! `--set key.path=value` overrides: parsed, then written into a `toml_edit` document of the
//! scenario text (tables created as needed), so the overridden text goes through exactly the
//! same deserialisation and validation as a file. Problems at an overridden key are later
//! attributed to the `--set` that caused them.
//!
//! Reads: override strings and the scenario document. Writes: the document (in memory).

use toml_edit::{DocumentMut, InlineTable, Item, Table, Value};

use super::error::Problem;

/// One parsed `--set` override.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The override exactly as given on the command line.
    pub given: String,
    /// The dotted key path, e.g. `space.nx`.
    pub key: String,
    /// The value text after `=`, parsed as a TOML value (else taken as a string).
    pub value: String,
}

impl Override {
    /// Parses `key.path=value`; a missing `=` or an empty key segment is a [`Problem`]
    /// located at this `--set` (boxed: problems are large and rare).
    pub fn parse(given: &str) -> Result<Self, Box<Problem>> {
        let bad = |msg: &str| {
            let mut p = Problem::new("", msg.to_string());
            p.set = Some(given.to_string());
            Box::new(p)
        };
        let Some((key, value)) = given.split_once('=') else {
            return Err(bad(
                "malformed override: expected `key.path=value`, e.g. `--set space.nx=64`",
            ));
        };
        let segments: Vec<&str> = key.split('.').map(str::trim).collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(bad(&format!(
                "malformed override key `{key}`: expected dotted key names like `fields.dkk1.half_life_min`"
            )));
        }
        Ok(Self {
            given: given.to_string(),
            key: segments.join("."),
            value: value.trim().to_string(),
        })
    }

    /// The value as a TOML value: parsed as TOML if possible (`64`, `1.5`, `true`,
    /// `"text"`, `[1, 2]`), otherwise the raw text as a string (`implicit`).
    pub fn toml_value(&self) -> Value {
        match self.value.parse::<Value>() {
            Ok(v) => v.decorated(" ", ""),
            Err(_) => Value::from(self.value.as_str()).decorated(" ", ""),
        }
    }

    /// Writes the value at the key path into `doc`, creating missing tables. Fails (with a
    /// problem at this `--set`) when a path prefix names a plain value rather than a table.
    pub fn apply(&self, doc: &mut DocumentMut) -> Result<(), Box<Problem>> {
        let segments: Vec<&str> = self.key.split('.').collect();
        let (last, parents) = segments
            .split_last()
            .expect("Override::parse rejects empty keys");
        let mut item: &mut Item = doc.as_item_mut();
        for (i, seg) in parents.iter().enumerate() {
            let inline = item.is_inline_table();
            let Some(table) = item.as_table_like_mut() else {
                return Err(self.not_a_table(&segments[..i]));
            };
            if !table.contains_key(seg) {
                let new = if inline {
                    Item::Value(Value::InlineTable(InlineTable::new()))
                } else {
                    let mut t = Table::new();
                    t.set_implicit(true);
                    Item::Table(t)
                };
                table.insert(seg, new);
            }
            item = table.get_mut(seg).expect("inserted above");
        }
        let Some(table) = item.as_table_like_mut() else {
            return Err(self.not_a_table(parents));
        };
        table.insert(last, Item::Value(self.toml_value()));
        Ok(())
    }

    fn not_a_table(&self, prefix: &[&str]) -> Box<Problem> {
        let mut p = Problem::new(
            self.key.clone(),
            format!(
                "cannot set this key: `{}` is a value, not a table",
                prefix.join(".")
            ),
        );
        p.set = Some(self.given.clone());
        Box::new(p)
    }

    /// True if a problem at `key` is caused by this override: the same key, a key inside
    /// it, or a table containing it.
    pub fn covers(&self, key: &str) -> bool {
        key == self.key
            || key.starts_with(&format!("{}.", self.key))
            || (!key.is_empty() && self.key.starts_with(&format!("{key}.")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_splits_key_and_value() {
        let o = Override::parse("space.nx=64").unwrap();
        assert_eq!(o.key, "space.nx");
        assert_eq!(o.value, "64");
        assert!(Override::parse("space.nx").is_err());
        assert!(Override::parse("space..nx=1").is_err());
    }

    #[test]
    fn apply_sets_existing_and_creates_tables() {
        let mut doc: DocumentMut = "[space]\nnx = 100\n".parse().unwrap();
        Override::parse("space.nx=64")
            .unwrap()
            .apply(&mut doc)
            .unwrap();
        Override::parse("fields.dkk1.solver=explicit")
            .unwrap()
            .apply(&mut doc)
            .unwrap();
        let text = doc.to_string();
        let v: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(v["space"]["nx"].as_integer(), Some(64));
        assert_eq!(v["fields"]["dkk1"]["solver"].as_str(), Some("explicit"));
    }

    #[test]
    fn apply_into_value_fails() {
        let mut doc: DocumentMut = "[space]\nnx = 100\n".parse().unwrap();
        let e = Override::parse("space.nx.y=1")
            .unwrap()
            .apply(&mut doc)
            .unwrap_err();
        assert_eq!(e.set.as_deref(), Some("space.nx.y=1"));
    }

    #[test]
    fn covers_same_inner_and_outer_keys() {
        let o = Override::parse("fields.foo.half_life_min=1").unwrap();
        assert!(o.covers("fields.foo.half_life_min"));
        assert!(o.covers("fields.foo"));
        assert!(!o.covers("fields.dkk1"));
        assert!(!o.covers(""));
    }
}
