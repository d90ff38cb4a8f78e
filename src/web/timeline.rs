//! The incident's timeline drawn as SVG: status phases as bands over time, coloured by the
//! severity at the time, and a marker for each fix tried, highlight, role change, update and
//! the resolution. Pure: the record and the end of the drawing come in as values.

use chrono::{DateTime, Utc};

use crate::domain::incident::Status;
use crate::domain::postmortem::Record;
use crate::domain::timeline::TimelineEntry;

const WIDTH: f64 = 960.0;
const LEFT: f64 = 10.0;
const BAND_Y: f64 = 40.0;
const BAND_H: f64 = 36.0;
const MARKER_Y: f64 = 100.0;
const HEIGHT: f64 = 140.0;

/// A stretch of time with one status and one severity.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub status: String,
    pub severity: Option<String>,
}

/// Something that happened at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub at: DateTime<Utc>,
    /// fix, highlight, role, update, resolution
    pub kind: &'static str,
    pub label: String,
}

/// The bands and markers of a record, from its declaration until `end`.
pub fn layout(record: &Record, end: DateTime<Utc>) -> (Vec<Band>, Vec<Marker>) {
    let start = record.incident.declared_at;
    let end = end.max(start);
    let mut bands: Vec<Band> = vec![Band {
        from: start,
        until: end,
        status: "investigating".into(),
        severity: None,
    }];
    let mut markers = Vec::new();
    let name = |u: &str| {
        record
            .names
            .get(u)
            .cloned()
            .unwrap_or_else(|| u.to_string())
    };
    for e in &record.entries {
        let at = e.at.clamp(start, end);
        let who = e
            .actor
            .as_ref()
            .map(|a| name(a.as_str()))
            .unwrap_or_else(|| "hereby".into());
        let (status, severity) = match bands.last() {
            Some(b) => (b.status.clone(), b.severity.clone()),
            None => continue,
        };
        let (change, marker) = match &e.what {
            TimelineEntry::StatusChanged { to, .. } => {
                (Some((to.as_str().to_string(), severity)), None)
            }
            TimelineEntry::SeverityChanged { to, .. } => {
                (Some((status, Some(to.as_str().to_string()))), None)
            }
            TimelineEntry::Resolved { .. } => (
                Some((Status::Resolved.as_str().to_string(), severity)),
                Some(("resolution", format!("Resolved by {who}"))),
            ),
            TimelineEntry::Reopened { to } => (Some((to.as_str().to_string(), severity)), None),
            TimelineEntry::FixTried { what, outcome, .. } => (
                None,
                Some((
                    "fix",
                    format!(
                        "Fix tried by {who}: {what}{}",
                        crate::domain::fixes::tried_outcome(*outcome)
                    ),
                )),
            ),
            TimelineEntry::FixOutcome { what, outcome, .. } => (
                None,
                Some(("fix", format!("Fix {} by {who}: {what}", outcome.as_str()))),
            ),
            TimelineEntry::RoleAssigned { role, user, .. } => (
                None,
                Some((
                    "role",
                    format!("{who} made {} {}", name(user.as_str()), role.key()),
                )),
            ),
            TimelineEntry::UpdatePosted { text } => (
                None,
                Some((
                    "update",
                    format!(
                        "Update by {who}: {}",
                        crate::domain::mrkdwn::to_plain(text, &record.names)
                    ),
                )),
            ),
            // On the record and in the draft's timeline, not drawn.
            TimelineEntry::Declared { .. }
            | TimelineEntry::Described { .. }
            | TimelineEntry::ChannelCreated { .. }
            | TimelineEntry::ChannelRenamed { .. }
            | TimelineEntry::RoleUnassigned { .. }
            | TimelineEntry::Renamed { .. }
            | TimelineEntry::Note { .. }
            | TimelineEntry::Huddle { .. }
            | TimelineEntry::HuddleStarted { .. }
            | TimelineEntry::Docs { .. }
            | TimelineEntry::ActionAdded { .. }
            | TimelineEntry::ActionClosed { .. }
            | TimelineEntry::ActionChanged { .. }
            | TimelineEntry::PostmortemStatus { .. }
            | TimelineEntry::PostmortemOwner { .. }
            | TimelineEntry::Unknown { .. } => (None, None),
        };
        if let Some((status, severity)) = change {
            if let Some(last) = bands.last_mut() {
                if last.from == at {
                    last.status = status;
                    last.severity = severity;
                } else {
                    last.until = at;
                    bands.push(Band {
                        from: at,
                        until: end,
                        status,
                        severity,
                    });
                }
            }
        }
        if let Some((kind, label)) = marker {
            markers.push(Marker { at, kind, label });
        }
    }
    for m in record.messages.iter().filter(|m| m.highlighted) {
        let who = m
            .user
            .as_ref()
            .map(|u| name(u.as_str()))
            .or_else(|| m.author_name.clone())
            .unwrap_or_default();
        markers.push(Marker {
            at: m.at.clamp(start, end),
            kind: "highlight",
            label: format!(
                "Highlight, {who}: {}",
                m.text
                    .as_deref()
                    .map(|t| crate::domain::mrkdwn::to_plain(t, &record.names))
                    .unwrap_or_else(|| "(deleted)".into())
            ),
        });
    }
    markers.sort_by_key(|m| m.at);
    (bands, markers)
}

/// The fill of a band: the worse the severity, the warmer; grey before one is set.
pub fn severity_colour(severity: Option<&str>) -> &'static str {
    match severity {
        Some("sev1") => "#c62828",
        Some("sev2") => "#ef6c00",
        Some("sev3") => "#f9a825",
        Some("sev4") => "#1e88e5",
        _ => "#9e9e9e",
    }
}

fn marker_colour(kind: &str) -> &'static str {
    match kind {
        "fix" => "#6a1b9a",
        "highlight" => "#00897b",
        "role" => "#455a64",
        "update" => "#3949ab",
        _ => "#2e7d32",
    }
}

/// Escapes text for SVG/HTML.
pub fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The SVG: bands, then markers; each marker is a link to its entry in the list below the
/// drawing (`#marker-<n>`), focusable with the keyboard, with its text as a tooltip.
pub fn render(bands: &[Band], markers: &[Marker], tz: &chrono_tz::Tz) -> String {
    let (Some(first), Some(last)) = (bands.first(), bands.last()) else {
        return String::new();
    };
    let (start, end) = (first.from, last.until);
    let span = (end - start).num_milliseconds().max(1) as f64;
    let x = |t: DateTime<Utc>| {
        LEFT + (t - start).num_milliseconds() as f64 / span * (WIDTH - 2.0 * LEFT)
    };
    let mut svg = format!(
        r#"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="timeline-title"><title id="timeline-title">Timeline from {} to {}</title>"#,
        start.with_timezone(tz).format("%Y-%m-%d %H:%M"),
        end.with_timezone(tz).format("%Y-%m-%d %H:%M")
    );
    for b in bands {
        let (x0, x1) = (x(b.from), x(b.until));
        let severity = b.severity.as_deref().unwrap_or("no severity");
        svg.push_str(&format!(
            r#"<g class="band" data-status="{s}" data-severity="{sev}"><title>{s}, {sev}: {from} to {until}</title><rect x="{x0:.1}" y="{BAND_Y}" width="{w:.1}" height="{BAND_H}" fill="{fill}"/>"#,
            s = escape(&b.status),
            sev = escape(severity),
            from = clock(b.from, start, tz, "%H:%M"),
            until = clock(b.until, start, tz, "%H:%M"),
            w = (x1 - x0).max(1.0),
            fill = severity_colour(b.severity.as_deref()),
        ));
        if x1 - x0 > 90.0 {
            svg.push_str(&format!(
                r##"<text x="{:.1}" y="{:.1}" fill="#ffffff" font-size="13">{}</text>"##,
                x0 + 6.0,
                BAND_Y + 23.0,
                escape(&b.status)
            ));
        }
        svg.push_str("</g>");
    }
    for (i, m) in markers.iter().enumerate() {
        let cx = x(m.at);
        let label = escape(&m.label);
        svg.push_str(&format!(
            r##"<a href="#marker-{n}" class="marker" data-kind="{kind}" aria-label="{label}"><title>{at} {label}</title><line x1="{cx:.1}" y1="{BAND_Y}" x2="{cx:.1}" y2="{MARKER_Y}" stroke="{c}" stroke-width="1"/><circle cx="{cx:.1}" cy="{MARKER_Y}" r="7" fill="{c}"/></a>"##,
            n = i + 1,
            kind = m.kind,
            at = clock(m.at, start, tz, "%H:%M:%S"),
            c = marker_colour(m.kind),
        ));
    }
    svg.push_str(&format!(
        r##"<text x="{LEFT}" y="24" font-size="12" fill="#333333">{}</text><text x="{}" y="24" font-size="12" fill="#333333" text-anchor="end">{}</text></svg>"##,
        start.with_timezone(tz).format("%Y-%m-%d %H:%M"),
        WIDTH - LEFT,
        clock(end, start, tz, "%H:%M")
    ));
    svg
}

/// A time as the drawing shows it: the time of day on the day the drawing starts, with the
/// date on any later day (an incident that lasts past midnight).
fn clock(t: DateTime<Utc>, start: DateTime<Utc>, tz: &chrono_tz::Tz, time: &str) -> String {
    let (local, first) = (t.with_timezone(tz), start.with_timezone(tz));
    if local.date_naive() == first.date_naive() {
        local.format(time).to_string()
    } else {
        local.format(&format!("%Y-%m-%d {time}")).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixes::Outcome;
    use crate::domain::incident::{Severity, Title};
    use crate::domain::postmortem::{Entry, IncidentFacts, LoggedMessage};
    use crate::domain::roles::Role;
    use crate::domain::{ChannelId, UserId};
    use chrono::TimeZone;

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn entry(min: i64, what: TimelineEntry) -> Entry {
        Entry {
            at: at(min),
            actor: Some(UserId::new("W1")),
            what,
        }
    }

    fn severity(min: i64, to: Severity) -> Entry {
        entry(min, TimelineEntry::SeverityChanged { from: None, to })
    }

    fn status(min: i64, from: Status, to: Status) -> Entry {
        entry(min, TimelineEntry::StatusChanged { from, to })
    }

    fn update(min: i64, text: &str) -> Entry {
        entry(min, TimelineEntry::UpdatePosted { text: text.into() })
    }

    fn resolved(min: i64) -> Entry {
        entry(
            min,
            TimelineEntry::Resolved {
                from: Status::Identified,
            },
        )
    }

    fn record(entries: Vec<Entry>, messages: Vec<LoggedMessage>) -> Record {
        Record {
            incident: IncidentFacts {
                number: 1,
                title: Some("db down".into()),
                severity: None,
                declared_at: at(0),
                declared_by: UserId::new("W1"),
                resolved_at: None,
                description: None,
                channel_name: None,
                postmortem_status: crate::domain::postmortem::ReviewStatus::Draft,
                postmortem_owner: None,
            },
            roles: vec![],
            entries,
            messages,
            links: vec![],
            fixes: vec![],
            actions: vec![],
            participants: vec![],
            names: [("W1".to_string(), "alice".to_string())].into(),
        }
    }

    #[test]
    fn each_status_or_severity_change_starts_a_band() {
        let r = record(
            vec![
                entry(
                    0,
                    TimelineEntry::Declared {
                        title: Title::parse("db down").ok(),
                        origin_channel: ChannelId::new("C1"),
                    },
                ),
                severity(5, Severity::Sev1),
                status(20, Status::Investigating, Status::Identified),
                severity(40, Severity::Sev2),
                resolved(60),
            ],
            vec![],
        );
        let (bands, _) = layout(&r, at(60));
        let seen: Vec<(&str, Option<&str>)> = bands
            .iter()
            .map(|b| (b.status.as_str(), b.severity.as_deref()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("investigating", None),
                ("investigating", Some("sev1")),
                ("identified", Some("sev1")),
                ("identified", Some("sev2")),
                ("resolved", Some("sev2")),
            ]
        );
        assert_eq!(bands[1].until, at(20));
    }

    #[test]
    fn a_reopened_incident_goes_back_to_the_status_it_was_reopened_to() {
        let r = record(
            vec![
                resolved(20),
                entry(
                    30,
                    TimelineEntry::Reopened {
                        to: Status::Identified,
                    },
                ),
            ],
            vec![],
        );
        let (bands, _) = layout(&r, at(40));
        let seen: Vec<&str> = bands.iter().map(|b| b.status.as_str()).collect();
        assert_eq!(seen, ["investigating", "resolved", "identified"]);
    }

    #[test]
    fn entries_this_version_cannot_read_draw_nothing() {
        let r = record(
            vec![entry(
                10,
                TimelineEntry::Unknown {
                    kind: "paged".into(),
                    detail: serde_json::json!({"to": "resolved"}),
                },
            )],
            vec![],
        );
        let (bands, markers) = layout(&r, at(30));
        assert_eq!(bands.len(), 1);
        assert!(markers.is_empty());
    }

    #[test]
    fn fixes_updates_roles_highlights_and_the_resolution_are_markers_in_time_order() {
        let mut highlighted = LoggedMessage {
            ts: "1.0".into(),
            thread_ts: None,
            at: at(12),
            user: Some(UserId::new("W1")),
            author_name: None,
            from_app: false,
            text: Some("error rate is 40%".into()),
            files: None,
            edited: false,
            highlighted: true,
        };
        let plain = LoggedMessage {
            highlighted: false,
            at: at(13),
            ..highlighted.clone()
        };
        highlighted.text = Some("error rate is 40%".into());
        let r = record(
            vec![
                entry(
                    10,
                    TimelineEntry::FixTried {
                        number: 1,
                        what: "restart db".into(),
                        outcome: Outcome::Failed,
                        message_ts: None,
                    },
                ),
                entry(
                    3,
                    TimelineEntry::RoleAssigned {
                        role: Role::Commander,
                        user: UserId::new("W1"),
                        previous: None,
                    },
                ),
                update(30, "still down"),
                resolved(50),
            ],
            vec![highlighted, plain],
        );
        let (_, markers) = layout(&r, at(50));
        let kinds: Vec<&str> = markers.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            vec!["role", "fix", "highlight", "update", "resolution"]
        );
        assert!(markers[1].label.contains("restart db (failed)"));
    }

    #[test]
    fn highlights_and_updates_read_as_plain_text() {
        let highlighted = LoggedMessage {
            ts: "1.0".into(),
            thread_ts: None,
            at: at(12),
            user: Some(UserId::new("W1")),
            author_name: None,
            from_app: false,
            text: Some("see <https://g.example/d|the dashboard>".into()),
            files: None,
            edited: false,
            highlighted: true,
        };
        let r = record(vec![update(5, "<@W1> is on it")], vec![highlighted]);
        let (_, markers) = layout(&r, at(30));
        assert_eq!(markers[0].label, "Update by alice: @alice is on it");
        assert_eq!(markers[1].label, "Highlight, alice: see the dashboard");
    }

    #[test]
    fn bands_are_coloured_by_severity_and_labels_are_escaped() {
        let r = record(
            vec![
                severity(5, Severity::Sev1),
                update(10, "&lt;script&gt;alert(1)&lt;/script&gt;"),
            ],
            vec![],
        );
        let (bands, markers) = layout(&r, at(30));
        let svg = render(&bands, &markers, &chrono_tz::UTC);
        assert!(svg.contains(severity_colour(Some("sev1"))));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains(r##"href="#marker-1""##));
    }

    #[test]
    fn an_incident_that_lasts_past_midnight_shows_the_date_of_every_later_time() {
        // Declared at 14:00 on 2026-11-21; an update and the end on the days after.
        let r = record(vec![update(60 * 20, "still on it")], vec![]);
        let (bands, markers) = layout(&r, at(60 * 43 + 30));
        let svg = render(&bands, &markers, &chrono_tz::UTC);
        assert!(
            svg.contains("<title>2026-11-22 10:00:00 Update by alice"),
            "{svg}"
        );
        assert!(svg.contains(": 14:00 to 2026-11-23 09:30</title>"), "{svg}");
        assert!(
            svg.contains(r#"text-anchor="end">2026-11-23 09:30</text>"#),
            "{svg}"
        );
        let same_day = render(&layout(&r, at(30)).0, &[], &chrono_tz::UTC);
        assert!(same_day.contains(": 14:00 to 14:30</title>"), "{same_day}");
    }

    #[test]
    fn an_incident_with_no_time_elapsed_still_draws() {
        let r = record(vec![], vec![]);
        let (bands, markers) = layout(&r, at(0));
        let svg = render(&bands, &markers, &chrono_tz::UTC);
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
    }
}
