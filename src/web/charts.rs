//! The insights' figures and their SVG charts: incidents per month by severity, time to
//! mitigate and to resolve (median and p90) by severity per month, open action items by age
//! and owner. Pure: facts and the current time come in as values.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use super::timeline::{escape, severity_colour};

/// The severities charted, the last one for incidents that never got one.
pub const SEVERITIES: [&str; 5] = ["sev1", "sev2", "sev3", "sev4", "none"];

/// What the insights need of one incident.
#[derive(Debug, Clone)]
pub struct IncidentFact {
    pub declared: DateTime<Utc>,
    pub severity: Option<String>,
    /// When the first fix that worked was marked as working.
    pub mitigated: Option<DateTime<Utc>>,
    pub resolved: Option<DateTime<Utc>>,
}

/// An open action item.
#[derive(Debug, Clone)]
pub struct OpenItem {
    pub owner: Option<String>,
    pub created: DateTime<Utc>,
}

/// The `n` months up to and including `now`'s, oldest first, as (year, month).
pub fn months(now: DateTime<Utc>, tz: Tz, n: usize) -> Vec<(i32, u32)> {
    let local = now.with_timezone(&tz);
    let (mut y, mut m) = (local.year(), local.month());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push((y, m));
        (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    }
    out.reverse();
    out
}

fn month_of(t: DateTime<Utc>, tz: Tz) -> (i32, u32) {
    let l = t.with_timezone(&tz);
    (l.year(), l.month())
}

fn severity_index(s: Option<&str>) -> usize {
    SEVERITIES[..4]
        .iter()
        .position(|k| Some(*k) == s)
        .unwrap_or(4)
}

/// Incidents declared per month, by severity (in [`SEVERITIES`] order).
pub fn per_month(facts: &[IncidentFact], months: &[(i32, u32)], tz: Tz) -> Vec<[usize; 5]> {
    let mut out = vec![[0; 5]; months.len()];
    for f in facts {
        if let Some(i) = months.iter().position(|m| *m == month_of(f.declared, tz)) {
            out[i][severity_index(f.severity.as_deref())] += 1;
        }
    }
    out
}

/// Median and 90th percentile (nearest rank) of some durations in minutes.
pub fn median_p90(values: &mut [f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let rank =
        |p: f64| values[((p * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    Some((rank(0.5), rank(0.9)))
}

/// For each severity and month: (median, p90) minutes from declaration to `until`.
pub fn durations(
    facts: &[IncidentFact],
    months: &[(i32, u32)],
    tz: Tz,
    until: impl Fn(&IncidentFact) -> Option<DateTime<Utc>>,
) -> Vec<Vec<Option<(f64, f64)>>> {
    let mut samples: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
    for f in facts {
        let (Some(end), Some(m)) = (
            until(f),
            months.iter().position(|m| *m == month_of(f.declared, tz)),
        ) else {
            continue;
        };
        let minutes = (end - f.declared).num_seconds().max(0) as f64 / 60.0;
        samples
            .entry((severity_index(f.severity.as_deref()), m))
            .or_default()
            .push(minutes);
    }
    (0..SEVERITIES.len())
        .map(|s| {
            (0..months.len())
                .map(|m| samples.get_mut(&(s, m)).and_then(|v| median_p90(v)))
                .collect()
        })
        .collect()
}

/// Age buckets of open action items.
pub const AGES: [&str; 4] = ["under a week", "1–4 weeks", "1–3 months", "over 3 months"];

/// Open action items per owner (most first), counted by age bucket.
pub fn aging(items: &[OpenItem], now: DateTime<Utc>) -> Vec<(String, [usize; 4])> {
    let mut by_owner: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    for item in items {
        let days = (now - item.created).num_days();
        let bucket = match days {
            d if d < 7 => 0,
            d if d < 28 => 1,
            d if d < 90 => 2,
            _ => 3,
        };
        let owner = item.owner.clone().unwrap_or_else(|| "(no owner)".into());
        by_owner.entry(owner).or_default()[bucket] += 1;
    }
    let mut out: Vec<_> = by_owner.into_iter().collect();
    out.sort_by_key(|(owner, counts)| {
        (
            std::cmp::Reverse(counts.iter().sum::<usize>()),
            owner.clone(),
        )
    });
    out
}

fn colour(i: usize) -> &'static str {
    severity_colour(SEVERITIES.get(i).copied().filter(|s| *s != "none"))
}

const AGE_COLOURS: [&str; 4] = ["#90caf9", "#42a5f5", "#1e88e5", "#0d47a1"];

/// Stacked bars: one per month, a segment per severity.
pub fn bars_svg(labels: &[String], counts: &[[usize; 5]]) -> String {
    let (w, h, left, bottom) = (720.0, 240.0, 40.0, 30.0);
    let max = counts
        .iter()
        .map(|c| c.iter().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = (w - left) / labels.len().max(1) as f64;
    let mut svg = format!(
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="Incidents per month by severity">"#
    );
    svg.push_str(&format!(
        r##"<text x="4" y="14" font-size="11" fill="#555555">{max}</text>"##
    ));
    for (i, (label, c)) in labels.iter().zip(counts).enumerate() {
        let x = left + i as f64 * slot + slot * 0.15;
        let mut y = h - bottom;
        for (s, n) in c.iter().enumerate().filter(|(_, n)| **n > 0) {
            let bh = *n as f64 / max * (h - bottom - 20.0);
            y -= bh;
            svg.push_str(&format!(
                r#"<rect class="bar" data-month="{label}" data-severity="{sev}" x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" fill="{fill}"><title>{label}: {n} {sev}</title></rect>"#,
                label = escape(label),
                sev = SEVERITIES[s],
                bw = slot * 0.7,
                fill = colour(s),
            ));
        }
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#333333" text-anchor="middle">{}</text>"##,
            x + slot * 0.35,
            h - 10.0,
            escape(label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Lines per severity over the months: the median solid, the p90 dashed; hours on the axis.
pub fn lines_svg(title: &str, labels: &[String], series: &[Vec<Option<(f64, f64)>>]) -> String {
    let (w, h, left, bottom) = (720.0, 240.0, 50.0, 30.0);
    let max = series
        .iter()
        .flatten()
        .flatten()
        .map(|(_, p90)| *p90)
        .fold(0.0_f64, f64::max)
        .max(60.0);
    let slot = (w - left) / labels.len().max(1) as f64;
    let x = |m: usize| left + m as f64 * slot + slot / 2.0;
    let y = |minutes: f64| (h - bottom) - minutes / max * (h - bottom - 20.0);
    let mut svg = format!(
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#,
        escape(title)
    );
    svg.push_str(&format!(
        r##"<text x="4" y="14" font-size="11" fill="#555555">{:.1} h</text>"##,
        max / 60.0
    ));
    for (m, label) in labels.iter().enumerate() {
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#333333" text-anchor="middle">{}</text>"##,
            x(m),
            h - 10.0,
            escape(label)
        ));
    }
    for (s, months) in series.iter().enumerate() {
        for (pick, dash) in [(0, ""), (1, r#" stroke-dasharray="5 4""#)] {
            let points: Vec<String> = months
                .iter()
                .enumerate()
                .filter_map(|(m, v)| {
                    v.map(|v| format!("{:.1},{:.1}", x(m), y(if pick == 0 { v.0 } else { v.1 })))
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            svg.push_str(&format!(
                r#"<polyline class="series" data-severity="{}" fill="none" stroke="{}" stroke-width="2"{dash} points="{}"/>"#,
                SEVERITIES[s],
                colour(s),
                points.join(" ")
            ));
            for p in &points {
                let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
                svg.push_str(&format!(
                    r#"<circle cx="{px}" cy="{py}" r="3" fill="{}"/>"#,
                    colour(s)
                ));
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal stacked bars: one per owner, a segment per age bucket.
pub fn aging_svg(rows: &[(String, [usize; 4])]) -> String {
    let (w, left, row_h) = (720.0, 160.0, 22.0);
    let h = 20.0 + rows.len().max(1) as f64 * row_h;
    let max = rows
        .iter()
        .map(|(_, c)| c.iter().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut svg = format!(
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="Open action items by age and owner">"#
    );
    for (i, (owner, counts)) in rows.iter().enumerate() {
        let y = 10.0 + i as f64 * row_h;
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#333333" text-anchor="end">{}</text>"##,
            left - 6.0,
            y + 14.0,
            escape(owner)
        ));
        let mut x = left;
        for (b, n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
            let bw = *n as f64 / max * (w - left - 10.0);
            svg.push_str(&format!(
                r#"<rect class="age" x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{:.1}" fill="{}"><title>{}: {n} {}</title></rect>"#,
                row_h - 6.0,
                AGE_COLOURS[b],
                escape(owner),
                AGES[b]
            ));
            x += bw;
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    fn fact(at: DateTime<Utc>, sev: Option<&str>, resolved_after_min: Option<i64>) -> IncidentFact {
        IncidentFact {
            declared: at,
            severity: sev.map(String::from),
            mitigated: None,
            resolved: resolved_after_min.map(|m| at + chrono::Duration::minutes(m)),
        }
    }

    #[test]
    fn the_last_months_end_with_this_one_across_a_new_year() {
        let m = months(day(2026, 2, 10), chrono_tz::UTC, 3);
        assert_eq!(m, vec![(2025, 12), (2026, 1), (2026, 2)]);
    }

    #[test]
    fn incidents_are_counted_per_month_and_severity() {
        let m = months(day(2026, 11, 21), chrono_tz::UTC, 2);
        let facts = [
            fact(day(2026, 11, 1), Some("sev1"), None),
            fact(day(2026, 11, 2), Some("sev1"), None),
            fact(day(2026, 10, 5), None, None),
            fact(day(2025, 1, 5), Some("sev2"), None),
        ];
        assert_eq!(
            per_month(&facts, &m, chrono_tz::UTC),
            vec![[0, 0, 0, 0, 1], [2, 0, 0, 0, 0]]
        );
    }

    #[test]
    fn median_and_p90_use_the_nearest_rank() {
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median_p90(&mut v), Some((5.0, 9.0)));
        assert_eq!(median_p90(&mut []), None);
    }

    #[test]
    fn time_to_resolve_is_grouped_by_severity_and_month() {
        let m = months(day(2026, 11, 21), chrono_tz::UTC, 1);
        let facts = [
            fact(day(2026, 11, 1), Some("sev2"), Some(30)),
            fact(day(2026, 11, 2), Some("sev2"), Some(90)),
            fact(day(2026, 11, 3), Some("sev2"), None),
        ];
        let d = durations(&facts, &m, chrono_tz::UTC, |f| f.resolved);
        assert_eq!(d[1][0], Some((30.0, 90.0)));
        assert_eq!(d[0][0], None);
    }

    #[test]
    fn open_items_are_bucketed_by_age_with_the_busiest_owner_first() {
        let now = day(2026, 11, 21);
        let items = [
            OpenItem {
                owner: Some("bob".into()),
                created: now - chrono::Duration::days(2),
            },
            OpenItem {
                owner: Some("alice".into()),
                created: now - chrono::Duration::days(10),
            },
            OpenItem {
                owner: Some("alice".into()),
                created: now - chrono::Duration::days(200),
            },
            OpenItem {
                owner: None,
                created: now,
            },
        ];
        let rows = aging(&items, now);
        assert_eq!(rows[0], ("alice".to_string(), [0, 1, 0, 1]));
        assert!(rows.iter().any(|(o, _)| o == "(no owner)"));
    }

    #[test]
    fn charts_escape_their_labels() {
        let svg = aging_svg(&[("<b>eve</b>".into(), [1, 0, 0, 0])]);
        assert!(svg.contains("&lt;b&gt;eve"));
        assert!(!svg.contains("<b>"));
        let bars = bars_svg(&["Nov".into()], &[[1, 0, 0, 0, 0]]);
        assert!(bars.contains(r#"data-severity="sev1""#));
    }
}
