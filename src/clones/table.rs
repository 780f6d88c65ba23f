//! The clone table: one row per clone ever born (id = row index, 0 = founder), with parent,
//! birth time, lesions and traits; CSV and Newick export.
//!
//! Reads: nothing. Writes: `clones.csv`, `clones.nwk` (through [`CloneTable::write_csv`] and
//! [`CloneTable::newick`]).

use std::io::Write;

use super::lesions::{LesionLibrary, Traits};

/// One clone.
#[derive(Clone, Debug, PartialEq)]
pub struct CloneRecord {
    /// Clone id (= index in the table).
    pub id: u32,
    /// Parent clone id (`None` for founders: clone 0 and seeded subclones list their parent).
    pub parent: Option<u32>,
    /// Step at whose end it was born (0: present at the start).
    pub birth_step: u64,
    /// Birth time [d].
    pub birth_time_d: f64,
    /// Lesions (library indices), founder lesions first, in order of acquisition.
    pub lesions: Vec<usize>,
    /// Combined traits of the lesions; a clone born by mutation inherits its parent's traits
    /// (drift included) × the new lesion's × its own drift.
    pub traits: Traits,
}

/// All clones, in id order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CloneTable {
    /// Rows; `rows[i].id == i`.
    pub rows: Vec<CloneRecord>,
}

impl CloneTable {
    /// Appends a clone with the next id and returns the id.
    pub fn push(
        &mut self,
        lib: &LesionLibrary,
        parent: Option<u32>,
        birth_step: u64,
        birth_time_d: f64,
        lesions: Vec<usize>,
    ) -> u32 {
        let traits = lib.traits_of(&lesions);
        self.push_with(parent, birth_step, birth_time_d, lesions, traits)
    }

    /// Appends a clone with given (e.g. inherited and drifted) traits; returns the id.
    pub fn push_with(
        &mut self,
        parent: Option<u32>,
        birth_step: u64,
        birth_time_d: f64,
        lesions: Vec<usize>,
        traits: Traits,
    ) -> u32 {
        let id = self.rows.len() as u32;
        self.rows.push(CloneRecord {
            id,
            parent,
            birth_step,
            birth_time_d,
            lesions,
            traits,
        });
        id
    }

    /// Number of clones.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// `clones.csv`: clone_id, parent_id (empty for the founder), birth_step, birth_time_d,
    /// lesions (`+`-joined names), then the trait multipliers.
    pub fn write_csv(&self, lib: &LesionLibrary, w: &mut impl Write) -> std::io::Result<()> {
        write!(w, "clone_id,parent_id,birth_step,birth_time_d,lesions")?;
        for c in Traits::COLUMNS {
            write!(w, ",{c}")?;
        }
        writeln!(w)?;
        for r in &self.rows {
            let parent = r.parent.map_or(String::new(), |p| p.to_string());
            write!(
                w,
                "{},{},{},{},{}",
                r.id,
                parent,
                r.birth_step,
                r.birth_time_d,
                self.lesion_names(lib, r.id)
            )?;
            for v in r.traits.values() {
                write!(w, ",{v}")?;
            }
            writeln!(w)?;
        }
        Ok(())
    }

    /// Lesion names of clone `id` joined by `+` (`none` when it carries no lesion).
    pub fn lesion_names(&self, lib: &LesionLibrary, id: u32) -> String {
        let r = &self.rows[id as usize];
        if r.lesions.is_empty() {
            return "none".into();
        }
        r.lesions
            .iter()
            .map(|&i| lib.lesions[i].name.as_str())
            .collect::<Vec<_>>()
            .join("+")
    }

    /// The clone tree in Newick format: leaves and inner nodes are named `c<id>`, branch
    /// lengths are the time between parent's and child's birth [d]. Roots (clones without a
    /// parent) are joined under an unnamed root.
    pub fn newick(&self) -> String {
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); self.rows.len()];
        let mut roots = Vec::new();
        for r in &self.rows {
            match r.parent {
                Some(p) => children[p as usize].push(r.id),
                None => roots.push(r.id),
            }
        }
        fn node(t: &CloneTable, ch: &[Vec<u32>], id: u32, parent_t: f64, out: &mut String) {
            let kids = &ch[id as usize];
            if !kids.is_empty() {
                out.push('(');
                for (k, &c) in kids.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    node(t, ch, c, t.rows[id as usize].birth_time_d, out);
                }
                out.push(')');
            }
            let bl = t.rows[id as usize].birth_time_d - parent_t;
            out.push_str(&format!("c{id}:{bl}"));
        }
        let mut out = String::new();
        out.push('(');
        for (k, &r) in roots.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            node(self, &children, r, 0.0, &mut out);
        }
        out.push_str(");\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn newick_nests_children() {
        let lib = LesionLibrary::build(&BTreeMap::new()).unwrap();
        let mut t = CloneTable::default();
        t.push(&lib, None, 0, 0.0, vec![]);
        t.push(&lib, Some(0), 24, 1.0, vec![0]);
        t.push(&lib, Some(1), 48, 3.0, vec![0, 1]);
        assert_eq!(t.newick(), "(((c2:2)c1:1)c0:0);\n");
    }
}
