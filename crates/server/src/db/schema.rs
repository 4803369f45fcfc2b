//! One migration shape for both backends. A backend's schema is one SQL file (`schema.sql` beside
//! its code) made of numbered steps, each opened by a `-- step N: what it adds` line; text before
//! the first step is the file's header. A database's version is the number of steps it has had:
//! each backend applies the steps it is missing, in order, recording the version with each, and
//! refuses a database from a newer server. Steps are only ever appended, never edited, since
//! databases in the field have had them.
//!
//! SQLite runs them through `lonceng_domain::migrate` (the desktop's store uses the same runner;
//! the version is `PRAGMA user_version`); PostgreSQL through its own runner, under an advisory lock
//! so that nodes starting together migrate once (the version is the `lonceng_schema` table).

/// What opens a step.
const MARKER: &str = "-- step ";

/// The SQL of each step of a schema file, in order.
pub fn steps(schema: &'static str) -> Vec<&'static str> {
    numbered(schema).into_iter().map(|(_, sql)| sql).collect()
}

/// Each step's number as written, with its SQL (the marker line included: it is a comment).
fn numbered(schema: &'static str) -> Vec<(Option<u32>, &'static str)> {
    let mut starts: Vec<usize> = Vec::new();
    let mut at = 0;
    for line in schema.split_inclusive('\n') {
        if line.starts_with(MARKER) {
            starts.push(at);
        }
        at += line.len();
    }
    let ends = starts.iter().skip(1).copied().chain([schema.len()]);
    starts
        .iter()
        .zip(ends)
        .map(|(&start, end)| {
            let sql = &schema[start..end];
            let number =
                sql[MARKER.len()..].split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok());
            (number, sql)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQLITE: &str = include_str!("../sqlite/schema.sql");
    const POSTGRES: &str = include_str!("../postgres/schema.sql");

    #[test]
    fn steps_are_split_at_their_markers_and_the_header_is_left_out() {
        let schema = "-- header\n\n-- step 1: a\nCREATE TABLE a (x);\n-- step 2: b\nCREATE TABLE b (y);\n";
        assert_eq!(
            steps(schema),
            ["-- step 1: a\nCREATE TABLE a (x);\n", "-- step 2: b\nCREATE TABLE b (y);\n"]
        );
        assert!(steps("-- no steps yet\n").is_empty());
    }

    #[test]
    fn each_backends_steps_are_numbered_from_one_in_order() {
        for (name, schema, at_least) in [("sqlite", SQLITE, 2), ("postgres", POSTGRES, 1)] {
            let numbers: Vec<Option<u32>> = numbered(schema).into_iter().map(|(n, _)| n).collect();
            let expected: Vec<Option<u32>> = (1..=numbers.len() as u32).map(Some).collect();
            assert_eq!(numbers, expected, "{name}'s schema.sql");
            assert!(numbers.len() >= at_least, "{name} has had {at_least} steps in the field");
            let has_sql =
                |sql: &str| sql.lines().any(|l| !l.trim().is_empty() && !l.trim().starts_with("--"));
            assert!(steps(schema).into_iter().all(has_sql), "{name}: a step without SQL");
        }
    }
}
