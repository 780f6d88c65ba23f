//! `report.html`: one self-contained page per run (no network: images are base64 data URIs,
//! CSS is inline, no scripts) with the scenario summary, provenance (seed, version, commit,
//! timestamps from the manifest), key outcomes the data supports (best response and when,
//! progression, nadirs, tumour burden, bone), the plots, the animation, the last snapshots and
//! the parameter table (the scenario file's keys with units and the comments above them as
//! sources, plus the resolved settings as `myelosim check` prints them).
//!
//! Reads: the run's [`RunData`], `plots/*.png`, `snapshots/*`. Writes: `<run dir>/report.html`.

use std::fmt::Write as _;
use std::path::Path;

use super::data::RunData;
use super::image::fmt_num;
use super::snapshot::{GIF_FILE, SNAPSHOT_DIR};

/// File name of the report inside a run directory.
pub const REPORT_FILE: &str = "report.html";

/// IMWG response categories, best first.
pub const RESPONSES: [&str; 7] = ["sCR", "CR", "VGPR", "PR", "MR", "SD", "PD"];

/// Standard base64 (RFC 4648, with padding).
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= c.len() {
                s.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Key outcomes `(label, value)` that the data supports.
pub fn outcomes(d: &RunData) -> Vec<(String, String)> {
    let mut o = Vec::new();
    let Some(t) = d.time() else { return o };
    if let Some(resp) = d.ts.as_ref().and_then(|ts| ts.text("response")) {
        let best = resp
            .iter()
            .zip(&t)
            .filter_map(|(r, t)| RESPONSES.iter().position(|x| x == r).map(|k| (k, *t)))
            .min_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        if let Some((k, when)) = best {
            o.push((
                "Best response (IMWG)".into(),
                format!("{} — first reached on day {}", RESPONSES[k], fmt_num(when)),
            ));
        }
    }
    match d.events_of("progression").next() {
        Some(e) => o.push(("Progression".into(), format!("day {}", fmt_num(e.time_d)))),
        None if d.ts.as_ref().and_then(|ts| ts.index("response")).is_some() => {
            o.push(("Progression".into(), "none during the run".into()))
        }
        None => {}
    }
    for (col, label, unit) in [
        ("hb_g_dl", "Haemoglobin nadir", "g/dL"),
        ("anc_1e9_l", "ANC nadir", "×10⁹/L"),
        ("platelets_1e9_l", "Platelet nadir", "×10⁹/L"),
    ] {
        if let Some(v) = d.col(col)
            && let Some((i, m)) = v
                .iter()
                .enumerate()
                .filter(|(_, x)| x.is_finite())
                .min_by(|a, b| a.1.total_cmp(b.1))
        {
            o.push((
                label.into(),
                format!("{} {unit} on day {}", fmt_num(*m), fmt_num(t[i])),
            ));
        }
    }
    if let Some(v) = d.col("m_protein_g_dl") {
        let first = v.iter().copied().find(|x| x.is_finite());
        let last = v.iter().copied().rfind(|x| x.is_finite());
        if let (Some(a), Some(b)) = (first, last) {
            o.push((
                "M-protein".into(),
                format!("{} → {} g/dL", fmt_num(a), fmt_num(b)),
            ));
        }
    }
    if let Some(v) = d.col("mm_cells") {
        let first = v.iter().copied().find(|x| x.is_finite()).unwrap_or(0.0);
        let last = v.iter().copied().rfind(|x| x.is_finite()).unwrap_or(0.0);
        let (pi, peak) = v
            .iter()
            .enumerate()
            .filter(|(_, x)| x.is_finite())
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .map_or((0, 0.0), |(i, x)| (i, *x));
        o.push((
            "Myeloma cells".into(),
            format!(
                "{} at start → {} at day {} (peak {} on day {})",
                fmt_num(first),
                fmt_num(last),
                fmt_num(*t.last().unwrap_or(&0.0)),
                fmt_num(peak),
                fmt_num(t.get(pi).copied().unwrap_or(0.0))
            ),
        ));
    }
    if let Some(v) = d.col("bv_tv_pct") {
        let first = v.iter().copied().find(|x| x.is_finite());
        let last = v.iter().copied().rfind(|x| x.is_finite());
        if let (Some(a), Some(b)) = (first, last) {
            o.push((
                "BV/TV".into(),
                format!("{} % → {} %", fmt_num(a), fmt_num(b)),
            ));
        }
    }
    if let Some(e) = d.events_of("extinction").next() {
        o.push((
            "Myeloma extinct".into(),
            format!("day {}", fmt_num(e.time_d)),
        ));
    }
    o
}

/// Unit implied by a key's suffix (`_d` days, `_um` µm, …).
pub fn unit_of(key: &str, table: &str) -> &'static str {
    if table.ends_with("secretion_nM_per_h") {
        return "nM/h";
    }
    for (suf, u) in [
        ("_um2_per_s", "µm²/s"),
        ("_per_h", "1/h"),
        ("_nM", "nM"),
        ("_pct", "%"),
        ("_min", "min"),
        ("_um", "µm"),
        ("_d", "d"),
        ("_h", "h"),
    ] {
        if key.ends_with(suf) {
            return u;
        }
    }
    ""
}

/// Rows `(key, value, unit, source comment)` of the scenario text, in file order.
pub fn parameter_rows(text: &str) -> Vec<[String; 4]> {
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return vec![];
    };
    let mut rows = Vec::new();
    fn walk(t: &toml_edit::Table, path: &str, rows: &mut Vec<[String; 4]>) {
        for (k, item) in t.iter() {
            let full = if path.is_empty() {
                k.to_string()
            } else {
                format!("{path}.{k}")
            };
            match item {
                toml_edit::Item::Table(sub) => walk(sub, &full, rows),
                toml_edit::Item::Value(v) => {
                    let comment = t
                        .key(k)
                        .and_then(|key| key.leaf_decor().prefix())
                        .and_then(|p| p.as_str())
                        .map(|p| {
                            p.lines()
                                .map(|l| l.trim().trim_start_matches('#').trim())
                                .filter(|l| !l.is_empty())
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                        .unwrap_or_default();
                    let val = v.to_string();
                    let val = val.trim().trim_matches('"').to_string();
                    rows.push([full, val, unit_of(k, path).to_string(), comment]);
                }
                _ => {}
            }
        }
    }
    walk(doc.as_table(), "", &mut rows);
    rows
}

fn img(dir: &Path, rel: &str, alt: &str, mime: &str) -> Option<String> {
    let bytes = std::fs::read(dir.join(rel)).ok()?;
    Some(format!(
        "<img src=\"data:{mime};base64,{}\" alt=\"{}\">",
        base64(&bytes),
        esc(alt)
    ))
}

const CSS: &str = "body{font-family:'DejaVu Sans',system-ui,-apple-system,'Segoe UI',Roboto,\
Helvetica,Arial,sans-serif;color:#22222a;background:#f6f6f8;margin:0;line-height:1.5}\
main{max-width:1160px;margin:0 auto;padding:24px 28px 60px;background:#fff;\
box-shadow:0 0 12px rgba(0,0,0,.06)}h1{font-size:1.7em;margin:.2em 0 .1em}\
h2{font-size:1.25em;margin:1.8em 0 .6em;border-bottom:2px solid #e4e4ea;padding-bottom:.2em}\
.sub{color:#5a5a66;margin:0 0 1em}table{border-collapse:collapse;width:100%;font-size:.92em}\
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid #ececf0;vertical-align:top}\
th{background:#f3f3f6;font-weight:600}td.num{font-variant-numeric:tabular-nums;white-space:nowrap}\
img{max-width:100%;height:auto;display:block;margin:8px 0 18px}\
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px}.grid figure{margin:0}\
figcaption{color:#5a5a66;font-size:.9em}pre{background:#f6f6f8;padding:12px;overflow-x:auto;\
font-size:.85em;border-radius:4px}.status{display:inline-block;padding:1px 8px;border-radius:10px;\
background:#e5f5e0;color:#1b5e20;font-size:.85em}.status.bad{background:#fde0dc;color:#b71c1c}\
.err{color:#b71c1c}";

/// Writes `report.html` into `dir`.
pub fn write(
    dir: &Path,
    d: &RunData,
    plot_files: &[String],
    errors: &[String],
) -> std::io::Result<()> {
    let m = d.manifest.as_ref();
    let ms = |k: &str| -> String {
        m.and_then(|m| m.get(k))
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "—".into(),
                other => other.to_string(),
            })
            .unwrap_or_else(|| "—".into())
    };
    let scen = |k: &str| -> String {
        m.and_then(|m| m.get("scenario"))
            .and_then(|s| s.get(k))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let name = scen("name");
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>myelosim run — {}</title><style>{CSS}</style></head><body><main>\n",
        esc(&name)
    );
    let status = ms("status");
    let bad = if status == "complete" { "" } else { " bad" };
    let _ = writeln!(
        h,
        "<h1>myelosim run: {}</h1><p class=\"sub\"><span class=\"status{bad}\">{}</span> \
         {} simulated days ({} of {} steps) · seed {} · myelosim {} (commit {}) · started {} · \
         finished {} · {} threads, {} s wall</p>",
        esc(&name),
        esc(&status),
        esc(&fmt_num(
            m.and_then(|m| m.get("simulated_days"))
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0)
        )),
        esc(&ms("steps_done")),
        esc(&ms("steps_planned")),
        esc(&ms("seed")),
        esc(&ms("myelosim_version")),
        esc(&ms("git_commit")),
        esc(&ms("started_utc")),
        esc(&ms("finished_utc")),
        esc(&ms("threads")),
        esc(&fmt_num(
            m.and_then(|m| m.get("wall_seconds"))
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0)
        )),
    );
    let text = scen("text");
    let intro: Vec<&str> = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect();
    let paras: Vec<String> = intro
        .split(|l| l.is_empty())
        .map(|p| p.join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    if let Some(desc) = paras.get(1) {
        let _ = writeln!(h, "<p>{}</p>", esc(desc));
    }
    let _ = write!(
        h,
        "<p class=\"sub\">Scenario: <code>{}</code>",
        esc(&scen("origin"))
    );
    if let Some(ov) = m
        .and_then(|m| m.pointer("/scenario/overrides"))
        .and_then(|v| v.as_array())
        && !ov.is_empty()
    {
        let list: Vec<String> = ov
            .iter()
            .filter_map(|v| v.as_str())
            .map(|s| format!("<code>--set {}</code>", esc(s)))
            .collect();
        let _ = write!(h, " with {}", list.join(", "));
    }
    h.push_str("</p>\n");
    if let Some(e) = m.and_then(|m| m.get("error")).and_then(|v| v.as_str()) {
        let _ = writeln!(h, "<p class=\"err\">Run error: {}</p>", esc(e));
    }

    h.push_str("<h2>Key outcomes</h2>\n");
    let out = outcomes(d);
    if out.is_empty() {
        h.push_str("<p>No time series was recorded.</p>\n");
    } else {
        h.push_str("<table>");
        for (k, v) in out {
            let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(&k), esc(&v));
        }
        h.push_str("</table>\n");
    }

    let pngs: Vec<&String> = plot_files.iter().filter(|f| f.ends_with(".png")).collect();
    if !pngs.is_empty() {
        h.push_str("<h2>Over time</h2>\n");
        for f in pngs {
            if let Some(i) = img(dir, f, f, "image/png") {
                h.push_str(&i);
                h.push('\n');
            }
        }
    }

    let snap_dir = dir.join(SNAPSHOT_DIR);
    let mut snaps: Vec<String> = std::fs::read_dir(&snap_dir)
        .map(|r| {
            r.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.ends_with(".png"))
                .collect()
        })
        .unwrap_or_default();
    snaps.sort();
    let has_gif = snap_dir.join(GIF_FILE).is_file();
    if has_gif || !snaps.is_empty() {
        h.push_str("<h2>The marrow</h2>\n<div class=\"grid\">");
        if has_gif
            && let Some(i) = img(
                dir,
                &format!("{SNAPSHOT_DIR}/{GIF_FILE}"),
                "animation of the marrow",
                "image/gif",
            )
        {
            let _ = write!(
                h,
                "<figure>{i}<figcaption>Animation of the cell map over the whole run.</figcaption></figure>"
            );
        }
        // The last snapshot of each kind (cells, clones, each field).
        let mut last: Vec<(String, String)> = Vec::new();
        for s in &snaps {
            let kind = s
                .rsplit_once("_d")
                .map_or(s.as_str(), |(k, _)| k)
                .to_string();
            match last.iter_mut().find(|(k, _)| *k == kind) {
                Some(e) => e.1 = s.clone(),
                None => last.push((kind, s.clone())),
            }
        }
        for (_, s) in &last {
            if let Some(i) = img(dir, &format!("{SNAPSHOT_DIR}/{s}"), s, "image/png") {
                let _ = write!(h, "<figure>{i}<figcaption>{}</figcaption></figure>", esc(s));
            }
        }
        let _ = writeln!(
            h,
            "</div><p class=\"sub\">{} snapshot images in <code>{SNAPSHOT_DIR}/</code>.</p>",
            snaps.len()
        );
    }

    let rows = parameter_rows(&text);
    if !rows.is_empty() {
        h.push_str("<h2>Parameters</h2>\n<p class=\"sub\">The scenario as run (keys not listed take \
                    their documented defaults; see the resolved settings below). Sources are the \
                    comments above each key.</p>\n<table><tr><th>key</th><th>value</th><th>unit</th>\
                    <th>source / note</th></tr>");
        for [k, v, u, c] in rows {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&k),
                esc(&v),
                esc(&u),
                esc(&c)
            );
        }
        h.push_str("</table>\n");
    }
    if !text.is_empty()
        && let Ok(s) = crate::scenario::load_str(&text, &scen("origin"), dir, &[])
    {
        let _ = writeln!(
            h,
            "<h2>Resolved settings</h2><pre>{}</pre>",
            esc(&crate::scenario::describe::describe(&s))
        );
    }
    if !errors.is_empty() {
        h.push_str("<h2>Rendering problems</h2><ul>");
        for e in errors {
            let _ = write!(h, "<li class=\"err\">{}</li>", esc(e));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</main></body></html>\n");
    std::fs::write(dir.join(REPORT_FILE), h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn parameter_rows_keep_units_and_comments() {
        let rows = parameter_rows(
            "[run]\n# Simulated time.\nduration_d = 60.0\n[fields.dkk1.secretion_nM_per_h]\n# Tian 2003\nmyeloma = 0.5\n",
        );
        assert_eq!(
            rows[0],
            [
                "run.duration_d".to_string(),
                "60.0".into(),
                "d".into(),
                "Simulated time.".into()
            ]
        );
        assert_eq!(rows[1][2], "nM/h");
        assert_eq!(rows[1][3], "Tian 2003");
    }
}
