//! The files that are not Rust, rendered from the schema: the "TCP Lifecycle" profile that
//! scripts/plugin-install.sh installs (`plugins/tcplife/profile/`), README's vocabulary table
//! and docs/plugin.md's field table. `tests/generated.rs` fails when a checked-in copy differs
//! from what is rendered here (`TCPLIFE_BLESS=1 cargo test -p tcplife-fields` rewrites them).

use crate::{Field, EXPERTS, FIELDS, PROTOCOL};

/// Where each rendered text lives, relative to the workspace root, and what it is.
pub enum Target {
    /// A whole file.
    File(&'static str),
    /// The lines between `<!-- tcplife-fields: NAME -->` and `<!-- end tcplife-fields: NAME -->`
    /// of a Markdown file.
    Region {
        file: &'static str,
        name: &'static str,
    },
}

/// Every rendered text and its place.
pub fn targets() -> Vec<(Target, String)> {
    vec![
        (
            Target::File("plugins/tcplife/profile/preferences"),
            profile_preferences(),
        ),
        (
            Target::File("plugins/tcplife/profile/recent"),
            profile_recent(),
        ),
        (
            Target::Region {
                file: "README.md",
                name: "vocabulary",
            },
            vocabulary_table(),
        ),
        (
            Target::Region {
                file: "docs/plugin.md",
                name: "fields",
            },
            plugin_fields(),
        ),
    ]
}

/// The profile's usual columns before the lifecycle ones: (title, format).
const LEADING_COLUMNS: [(&str, &str); 5] = [
    ("No.", "%m"),
    ("Time", "%t"),
    ("Source", "%s"),
    ("Destination", "%d"),
    ("Protocol", "%p"),
];

/// Protocol's width: "HelloDemo", the demo's own protocol, must fit.
const PROTOCOL_WIDTH: u16 = 84;

/// The lifecycle columns of the profile (fields with a column width): (title, format), the
/// format right-aligned as Wireshark's `%Cus:FIELD:OCCURRENCE:ALIGN`.
pub fn profile_columns() -> Vec<(&'static str, String)> {
    profile_fields()
        .map(|f| (f.title, format!("%Cus:{}:0:R", f.filter_name())))
        .collect()
}

fn profile_fields() -> impl Iterator<Item = &'static Field> {
    FIELDS.iter().filter(|f| f.column_width.is_some())
}

/// The profile's `preferences`, after the installer's first line: the packet list's columns.
pub fn profile_preferences() -> String {
    let mut columns: Vec<(String, String)> = LEADING_COLUMNS
        .iter()
        .map(|(t, f)| (t.to_string(), f.to_string()))
        .collect();
    columns.extend(
        profile_columns()
            .into_iter()
            .map(|(t, f)| (t.to_string(), f)),
    );
    columns.push(("Info".into(), "%i".into()));
    let lines: Vec<String> = columns
        .iter()
        .map(|(t, f)| format!("\t\"{t}\", \"{f}\""))
        .collect();
    format!(
        "# Packet list columns: the lifecycle of each TCP packet next to the usual ones.\n\
         gui.column.format:\n{}\n",
        lines.join(",\n")
    )
}

/// The profile's `recent`: the widths (pixels) of Protocol and the lifecycle columns.
pub fn profile_recent() -> String {
    let mut widths = vec![("%p".to_string(), PROTOCOL_WIDTH)];
    widths.extend(profile_fields().filter_map(|f| {
        f.column_width
            .map(|w| (format!("%Cus:{}", f.filter_name()), w))
    }));
    let lines: Vec<String> = widths.iter().map(|(c, w)| format!("\t{c}, {w}")).collect();
    format!(
        "# Column widths for the \"TCP Lifecycle\" profile, written by tcplife's \
         scripts/plugin-install.sh.\ncolumn.width:\n{}\n",
        lines.join(",\n")
    )
}

fn values(f: &Field) -> String {
    let names = (f.values.names)().join(", ");
    match (f.values.text, names.is_empty()) {
        (t, true) => t.to_string(),
        ("", false) => names,
        (t, false) => format!("{t}: {names}"),
    }
}

/// README's vocabulary: one row per field, its column name and its values.
pub fn vocabulary_table() -> String {
    let mut out = String::from("| field / column | values |\n|---|---|\n");
    for f in &FIELDS {
        out.push_str(&format!("| `{}` | {} |\n", f.name, values(f)));
    }
    out
}

/// docs/plugin.md's fields: filter name, title, type and description as `tshark -G fields`
/// shows them, the experts, and the tshark command that prints what `tcplife packets --format
/// tsv` prints.
pub fn plugin_fields() -> String {
    let mut out = String::from("| field | title | type | description |\n|---|---|---|---|\n");
    for f in &FIELDS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            f.filter_name(),
            f.title,
            f.kind.wireshark_type(),
            f.description
        ));
    }
    out.push_str("\n| expert info | severity | message |\n|---|---|---|\n");
    for e in &EXPERTS {
        let severity = match e.severity {
            crate::Severity::Note => "note",
            crate::Severity::Warn => "warning",
        };
        out.push_str(&format!(
            "| `{}` | {severity} | {} |\n",
            e.filter_name(),
            e.summary
        ));
    }
    let mut command = format!("tshark -Y {PROTOCOL} -T fields -e frame.number");
    for f in &FIELDS {
        command.push_str(" -e ");
        command.push_str(&f.filter_name());
    }
    out.push_str(&format!("\n```sh\n{command} -r capture.pcap\n```\n"));
    out
}

/// `doc` with the region `name` replaced by `body`; `None` if the markers are missing.
pub fn splice(doc: &str, name: &str, body: &str) -> Option<String> {
    let begin = format!("<!-- tcplife-fields: {name} -->\n");
    let end = format!("<!-- end tcplife-fields: {name} -->");
    let start = doc.find(&begin)? + begin.len();
    let stop = start + doc[start..].find(&end)?;
    Some(format!("{}{body}{}", &doc[..start], &doc[stop..]))
}
