//! Comment times as ISO 8601, from whatever the source wrote: epoch seconds (Reddit, the HN
//! API), RFC 3339 and RFC 2822 stamps (YouTube, Disqus, feeds), SQL-style stamps (WordPress),
//! the dates pages show in words in several languages ("April 12 2018, 04:34:23 UTC", "Oct. 9,
//! 2010 - 7:28 AM EST" with a zone abbreviation that names one zone only,
//! "вторник, 24 апреля 2018 г., 07:12"), and the relative times of Hacker News, Reddit and
//! YouTube pages ("8 hours ago"), which only mean something against the moment the page was
//! saved. Every output column called `time` comes from here; the value as written stays in
//! `time_raw`.
//!
//! What a value can honestly say decides its form: a stamp whose zone the source states is
//! written in UTC with a `Z`; one without a zone is the source's local time, without a `Z`; a
//! relative time of days or more is a date, of months a year-month, of years a year. A value
//! that cannot be read, or a relative one with no saved moment to count back from, gives no
//! time (the raw value is still in `time_raw`). Numeric dates that could be read day-first or
//! month-first (`03/04/2018`) give none either.

use jiff::civil::{Date, DateTime, Time};
use jiff::{SignedDuration, Timestamp, ToSpan};

use std::collections::HashMap;

use super::{Article, Comment};

/// Gives every comment a file just gave, and that has a raw time but no `when` yet, its ISO
/// time: anchored to `--saved-at`, else to the saving moment its article states, with the
/// year of either (or of the article's own time) for year-less dates.
pub(super) fn fill(comments: &mut [Comment], articles: &[Article], saved_at: Option<Timestamp>) {
    // Each article's anchor, once (the first article of a key, as `merge_articles` keeps).
    let mut anchors: HashMap<&str, Anchor> = HashMap::new();
    for a in articles {
        anchors.entry(a.key.as_str()).or_insert_with(|| {
            let saved = saved_at.or_else(|| a.saved_at.as_deref().and_then(moment));
            let year = saved
                .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).year())
                .or_else(|| year_of(a.time.as_deref()?));
            Anchor { saved, year }
        });
    }
    let unanchored = Anchor {
        saved: saved_at,
        year: saved_at.map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).year()),
    };
    for c in comments.iter_mut().filter(|c| c.when.is_none()) {
        let Some(raw) = c.time.as_deref() else {
            continue;
        };
        let anchor = c
            .thread_key
            .as_deref()
            .and_then(|k| anchors.get(k))
            .unwrap_or(&unanchored);
        c.when = iso(raw, anchor, false).map(Into::into);
    }
}

/// What a relative or year-less time is counted from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Anchor {
    /// When the page was saved (`--saved-at`, or what the page says about its own saving).
    pub saved: Option<Timestamp>,
    /// A year for dates shown without one (Slashdot's "Friday July 06"): the saved moment's,
    /// else the article's.
    pub year: Option<i16>,
}

/// Reads `raw` as a time and writes it as ISO 8601 (see the module note for the forms).
/// `utc` says the source keeps the value in UTC although the value does not say so
/// (WordPress's `comment_date_gmt`).
pub fn iso(raw: &str, anchor: &Anchor, utc: bool) -> Option<String> {
    let raw = clean(raw);
    if raw.is_empty() || raw.len() > 120 {
        return None;
    }
    if let Some(t) = epoch(raw) {
        return Some(stamp(t));
    }
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Some(stamp(t));
    }
    if let Ok(z) = jiff::fmt::rfc2822::parse(raw) {
        return Some(stamp(z.timestamp()));
    }
    if let Some(rel) = relative(raw, anchor) {
        return Some(rel);
    }
    let civil = match raw.parse::<DateTime>() {
        Ok(dt) if raw.len() > 10 => Civil::At(dt, None),
        _ => words(raw, anchor)?,
    };
    Some(match civil {
        Civil::Day(date) => date.to_string(),
        Civil::At(dt, Some(offset)) => stamp(offset.to_timestamp(dt).ok()?),
        Civil::At(dt, None) if utc => stamp(jiff::tz::Offset::UTC.to_timestamp(dt).ok()?),
        Civil::At(dt, None) => dt.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
    })
}

/// The year of a time as [`iso`] would read it, for anchoring year-less dates.
pub fn year_of(raw: &str) -> Option<i16> {
    let iso = iso(raw, &Anchor::default(), false)?;
    iso.get(..4)?.parse().ok()
}

/// A timestamp from `--saved-at` or from a page: RFC 3339, RFC 2822, or a date with a time in
/// UTC when no zone is given.
pub fn moment(raw: &str) -> Option<Timestamp> {
    let iso = iso(raw, &Anchor::default(), true)?;
    iso.parse::<Timestamp>().ok().or_else(|| {
        let date: Date = iso.parse().ok()?;
        jiff::tz::Offset::UTC
            .to_timestamp(date.to_datetime(Time::midnight()))
            .ok()
    })
}

/// A date and time read from words and numbers, with the offset when the value states one; or
/// a date alone, where no time was written.
enum Civil {
    At(DateTime, Option<jiff::tz::Offset>),
    Day(Date),
}

fn stamp(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Drops what pages add around a time: "(edited)", "posted", "on", a trailing "·".
fn clean(raw: &str) -> &str {
    let mut s = raw.trim();
    for suffix in ["(edited)", "(изменено)", "edited", "·", "|"] {
        s = s.strip_suffix(suffix).unwrap_or(s).trim_end();
    }
    for prefix in ["posted on", "posted", "on"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            if rest.starts_with(' ') {
                s = rest.trim_start();
            }
        }
    }
    s
}

/// Epoch seconds (10 digits, an optional `.0`) or milliseconds (13 digits); Hacker News's
/// `title="2024-05-01T12:00:00 1714564800"` gives its epoch after the stamp.
fn epoch(raw: &str) -> Option<Timestamp> {
    let last = raw.rsplit(' ').next()?;
    let digits = last.split_once('.').map_or(last, |(whole, frac)| {
        if frac.bytes().all(|b| b == b'0') {
            whole
        } else {
            ""
        }
    });
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if last.len() != raw.len() && raw.split(' ').count() != 2 {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    match digits.len() {
        9 | 10 => Timestamp::from_second(n).ok(),
        13 => Timestamp::from_millisecond(n).ok(),
        _ => None,
    }
}

/// "8 hours ago", "a minute ago", "1 week ago", "2y ago", "just now", and German's "vor 8
/// Stunden", "vor einem Tag", "gerade eben", against the saved moment.
fn relative(raw: &str, anchor: &Anchor) -> Option<String> {
    let lower = raw.to_lowercase();
    if matches!(
        lower.as_str(),
        "just now" | "now" | "gerade eben" | "soeben"
    ) {
        return anchor.saved.map(stamp);
    }
    let (body, german) = match lower.strip_suffix("ago") {
        Some(body) => (body.trim_end(), false),
        None => (lower.strip_prefix("vor ")?.trim_start(), true),
    };
    let (count, unit) = match body.split_once(' ') {
        Some((n, unit)) => (n, unit.trim()),
        None => {
            let at = body.find(|c: char| !c.is_ascii_digit())?;
            body.split_at(at)
        }
    };
    let n: i64 = match count {
        "a" | "an" | "one" | "ein" | "eine" | "einer" | "einem" => 1,
        n => n.parse().ok().filter(|n| (0..100_000).contains(n))?,
    };
    let saved = anchor.saved?;
    // "hours", "hr.", "mins", "s": the unit without its plural or its abbreviating dot.
    let unit = unit.trim_end_matches('.');
    let unit = if german {
        german_unit(unit)?
    } else {
        match unit.strip_suffix('s') {
            Some(one) if !one.is_empty() => one,
            _ => unit,
        }
    };
    let back = |d: SignedDuration| saved.checked_sub(d).ok();
    let day = saved.to_zoned(jiff::tz::TimeZone::UTC).date();
    Some(match unit {
        "second" | "sec" | "s" | "minute" | "min" | "m" | "hour" | "hr" | "h" => {
            let secs = match unit.chars().next()? {
                's' => 1,
                'm' => 60,
                _ => 3600,
            };
            stamp(back(SignedDuration::from_secs(n * secs))?)
        }
        "day" | "d" => day.checked_sub(n.days()).ok()?.to_string(),
        "week" | "w" | "wk" => day.checked_sub((7 * n).days()).ok()?.to_string(),
        "month" | "mo" => day
            .checked_sub(n.months())
            .ok()?
            .strftime("%Y-%m")
            .to_string(),
        "year" | "yr" | "y" => day.checked_sub(n.years()).ok()?.year().to_string(),
        _ => return None,
    })
}

/// A German time unit, any case ending ("Stunden", "Tagen", "Min."), as its English name.
fn german_unit(unit: &str) -> Option<&'static str> {
    const UNITS: [(&str, &str); 7] = [
        ("sek", "second"),
        ("min", "minute"),
        ("std", "hour"),
        ("tag", "day"),
        ("woche", "week"),
        ("monat", "month"),
        ("jahr", "year"),
    ];
    let unit = if unit.starts_with("stunde") {
        "std"
    } else {
        unit
    };
    UNITS
        .iter()
        .find(|(de, _)| unit.starts_with(de))
        .map(|(_, en)| *en)
}

/// A date (and time) written with words and numbers: the month by name in English, German,
/// French, Spanish, Italian, Portuguese, Dutch or Russian, or numbers as year-month-day or
/// day.month.year; a time as `H:MM[:SS]` with an optional am/pm; a zone as UTC, GMT, Z or an
/// offset. Weekday names and filler words are skipped.
fn words(raw: &str, anchor: &Anchor) -> Option<Civil> {
    let mut p = Parts::default();
    let lower = raw.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '@' | '(' | ')'))
        .filter(|t| !t.is_empty())
        .collect();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i].trim_end_matches('.');
        i += 1;
        // "20th", "1st": the day without its ordinal ending.
        let t = match t.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h']) {
            digits
                if digits.len() < t.len()
                    && !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                digits
            }
            _ => t,
        };
        if t.contains(':') && p.time.is_none() {
            p.time = Some(clock(t)?);
        } else if let Some(m) = month(t) {
            p.month.get_or_insert(m);
        } else if matches!(t, "am" | "a.m" | "pm" | "p.m") {
            p.pm = Some(t.starts_with('p'));
        } else if let Some(o) = t
            .strip_prefix("gmt")
            .or(t.strip_prefix("utc"))
            .filter(|o| !o.is_empty())
        {
            p.offset = Some(zone(Some(o))?);
        } else if matches!(t, "utc" | "gmt" | "z") {
            p.offset = Some(
                zone(tokens.get(i).copied())
                    .inspect(|_| i += 1)
                    .unwrap_or(0),
            );
        } else if let Some(o) = named_zone(t) {
            p.offset = Some(o);
        } else if let Some(o) = t.strip_prefix('+').or(t.strip_prefix('-')).and_then(offset) {
            p.offset = Some(if t.starts_with('-') { -o } else { o });
        } else if t.bytes().all(|b| b.is_ascii_digit()) {
            p.number(t)?;
        } else if t.contains(['-', '.', '/']) && t.starts_with(|c: char| c.is_ascii_digit()) {
            p.numeric_date(t)?;
        }
    }
    p.finish(anchor)
}

#[derive(Default)]
struct Parts {
    year: Option<i16>,
    month: Option<i8>,
    day: Option<i8>,
    time: Option<(i8, i8, i8)>,
    pm: Option<bool>,
    /// Seconds east of UTC.
    offset: Option<i32>,
}

impl Parts {
    /// A bare number: a 4-digit year, else a day of the month.
    fn number(&mut self, t: &str) -> Option<()> {
        let n: i32 = t.parse().ok()?;
        match t.len() {
            4 if self.year.is_none() => self.year = Some(n as i16),
            1 | 2 if self.day.is_none() && (1..=31).contains(&n) => self.day = Some(n as i8),
            _ => return None,
        }
        Some(())
    }

    /// `2018-04-24`, `24.04.2018`, `2018/04/24`; `04/24/2018` and `06-15-2016` (vBulletin) only
    /// where one of the first two numbers is over 12.
    fn numeric_date(&mut self, t: &str) -> Option<()> {
        let parts: Vec<&str> = t.split(['-', '.', '/']).filter(|s| !s.is_empty()).collect();
        let n: Vec<i32> = parts
            .iter()
            .map(|s| s.parse().ok())
            .collect::<Option<_>>()?;
        let (y, m, d) = match (parts.as_slice(), n.as_slice(), !t.contains('.')) {
            ([y, _, _], &[yn, mn, dn], _) if y.len() == 4 => (yn, mn, dn),
            ([_, _, y], &[dn, mn, yn], false) if y.len() == 4 => (yn, mn, dn),
            ([_, _, y], &[a, b, yn], true) if y.len() == 4 => match (a > 12, b > 12) {
                (true, false) => (yn, b, a),
                (false, true) => (yn, a, b),
                _ => return None,
            },
            ([_, _], &[dn, mn], false) if t.contains('.') => {
                (i32::from(self.year.unwrap_or(0)), mn, dn)
            }
            _ => return None,
        };
        if y != 0 {
            self.year = Some(y as i16);
        }
        self.month = Some(i8::try_from(m).ok()?);
        self.day = Some(i8::try_from(d).ok()?);
        Some(())
    }

    fn finish(self, anchor: &Anchor) -> Option<Civil> {
        let (month, day) = (self.month?, self.day?);
        let (mut h, m, s) = self.time.unwrap_or((0, 0, 0));
        match self.pm {
            Some(true) if h < 12 => h += 12,
            Some(false) if h == 12 => h = 0,
            _ => {}
        }
        let time = Time::new(h, m, s, 0).ok()?;
        let year = match self.year {
            Some(y) => y,
            None => anchor
                .saved
                .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).year())
                .or(anchor.year)?,
        };
        let mut date = Date::new(year, month, day).ok()?;
        if self.year.is_none() {
            // A year-less date after the saved moment is from the year before.
            if let Some(saved) = anchor.saved {
                if date > saved.to_zoned(jiff::tz::TimeZone::UTC).date() {
                    date = Date::new(year - 1, month, day).ok()?;
                }
            }
        }
        let offset = match self.offset {
            Some(o) => Some(jiff::tz::Offset::from_seconds(o).ok()?),
            None => None,
        };
        if self.time.is_none() {
            // A date alone: midnight would claim a time nobody wrote.
            return Some(Civil::Day(date));
        }
        Some(Civil::At(date.to_datetime(time), offset))
    }
}

fn clock(t: &str) -> Option<(i8, i8, i8)> {
    let (t, pm) = match t.strip_suffix("pm").or(t.strip_suffix("am")) {
        Some(rest) => (rest, Some(t.ends_with("pm"))),
        None => (t, None),
    };
    let mut it = t.split(':').map(|x| x.parse::<i8>().ok());
    let h = it.next()??;
    let m = it.next()??;
    let s = it.next().unwrap_or(Some(0))?;
    let h = match pm {
        Some(true) if h < 12 => h + 12,
        Some(false) if h == 12 => 0,
        _ => h,
    };
    Some((h, m, s))
}

/// "GMT +3", "UTC+03:00": the offset after a zone name, in seconds.
fn zone(next: Option<&str>) -> Option<i32> {
    let t = next?;
    let o = offset(t.strip_prefix('+').or(t.strip_prefix('-'))?)?;
    Some(if t.starts_with('-') { -o } else { o })
}

/// The offset of a zone abbreviation that names one zone only ("EST", "CEST"); ambiguous ones
/// ("CST": US Central or China, "IST", "BST") give none, and the time stays local.
fn named_zone(t: &str) -> Option<i32> {
    let hours = match t {
        "est" => -5,
        "edt" => -4,
        "mst" => -7,
        "mdt" => -6,
        "pst" => -8,
        "pdt" => -7,
        "cet" => 1,
        "cest" => 2,
        "msk" => 3,
        _ => return None,
    };
    Some(hours * 3600)
}

/// "3", "03", "0300", "03:00" as seconds.
fn offset(t: &str) -> Option<i32> {
    let (h, m) = match t.split_once(':') {
        Some((h, m)) => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
        None if t.len() == 4 => (t[..2].parse().ok()?, t[2..].parse().ok()?),
        None if t.len() <= 2 => (t.parse().ok()?, 0),
        None => return None,
    };
    (h <= 14 && m < 60).then_some(h * 3600 + m * 60)
}

/// A month's number from its name, in full or cut short ("Sept", "апр"), in the languages
/// of [`MONTHS`]. A word of under three letters is never a month ("ma"); a longer one must be
/// the start of a month's name, so "mardi", "market" and "decision" are not.
fn month(word: &str) -> Option<i8> {
    if word.chars().count() < 3 || !word.chars().all(char::is_alphabetic) {
        return None;
    }
    MONTHS
        .iter()
        .position(|names| names.iter().any(|name| name.starts_with(word)))
        .map(|i| i as i8 + 1)
}

/// Month names, with the inflected forms Russian dates use: English, German, French, Spanish,
/// Italian, Portuguese, Dutch, Russian.
const MONTHS: [&[&str]; 12] = [
    &[
        "january",
        "januar",
        "jänner",
        "janvier",
        "enero",
        "gennaio",
        "janeiro",
        "januari",
        "января",
        "январь",
    ],
    &[
        "february",
        "februar",
        "février",
        "febrero",
        "febbraio",
        "fevereiro",
        "februari",
        "февраля",
        "февраль",
    ],
    &[
        "march",
        "märz",
        "mars",
        "marzo",
        "março",
        "maart",
        "марта",
        "март",
    ],
    &["april", "avril", "abril", "aprile", "апреля", "апрель"],
    &["may", "mai", "mayo", "maggio", "maio", "mei", "мая", "май"],
    &[
        "june", "juni", "juin", "junio", "giugno", "junho", "июня", "июнь",
    ],
    &[
        "july", "juli", "juillet", "julio", "luglio", "julho", "июля", "июль",
    ],
    &["august", "août", "agosto", "augustus", "августа", "август"],
    &[
        "september",
        "septembre",
        "septiembre",
        "setiembre",
        "settembre",
        "setembro",
        "сентября",
        "сентябрь",
    ],
    &[
        "october",
        "oktober",
        "octobre",
        "octubre",
        "ottobre",
        "outubro",
        "октября",
        "октябрь",
    ],
    &[
        "november",
        "novembre",
        "noviembre",
        "novembro",
        "ноября",
        "ноябрь",
    ],
    &[
        "december",
        "dezember",
        "décembre",
        "diciembre",
        "dicembre",
        "dezembro",
        "декабря",
        "декабрь",
    ],
];

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(s: &str) -> Anchor {
        Anchor {
            saved: Some(s.parse().unwrap()),
            year: None,
        }
    }

    fn read(raw: &str) -> Option<String> {
        iso(raw, &Anchor::default(), false)
    }

    #[test]
    fn stamps_with_a_zone_are_written_in_utc() {
        assert_eq!(read("1439801151").as_deref(), Some("2015-08-17T08:45:51Z"));
        assert_eq!(
            read("1439801151.0").as_deref(),
            Some("2015-08-17T08:45:51Z")
        );
        assert_eq!(
            read("1439801151000").as_deref(),
            Some("2015-08-17T08:45:51Z")
        );
        assert_eq!(
            read("2016-06-23T17:21:09+02:00").as_deref(),
            Some("2016-06-23T15:21:09Z")
        );
        assert_eq!(
            read("2019-09-04T03:28:43.000Z").as_deref(),
            Some("2019-09-04T03:28:43Z")
        );
        assert_eq!(
            read("Tue, 24 Apr 2018 07:12:00 +0300").as_deref(),
            Some("2018-04-24T04:12:00Z")
        );
        assert_eq!(
            read("2024-05-01T12:00:00 1714564800").as_deref(),
            Some("2024-05-01T12:00:00Z")
        );
        assert_eq!(
            read("April 12 2018, 04:34:23 UTC").as_deref(),
            Some("2018-04-12T04:34:23Z")
        );
        assert_eq!(
            read("23:06 GMT +3 24 March 2017").as_deref(),
            Some("2017-03-24T20:06:00Z")
        );
    }

    #[test]
    fn stamps_without_a_zone_stay_local_unless_the_source_keeps_utc() {
        assert_eq!(
            read("2007-04-11 23:18:48").as_deref(),
            Some("2007-04-11T23:18:48")
        );
        let gmt = iso("2007-04-11 23:18:48", &Anchor::default(), true);
        assert_eq!(gmt.as_deref(), Some("2007-04-11T23:18:48Z"));
        assert_eq!(
            read("June 23, 2016 at 5:21 pm").as_deref(),
            Some("2016-06-23T17:21:00")
        );
        assert_eq!(
            read("24.04.2018 07:12").as_deref(),
            Some("2018-04-24T07:12:00")
        );
    }

    #[test]
    fn a_zone_abbreviation_that_names_one_zone_gives_utc() {
        assert_eq!(
            read("Oct. 9, 2010 - 7:28 AM EST").as_deref(),
            Some("2010-10-09T12:28:00Z")
        );
        assert_eq!(
            read("23. April 2020 14:27 CEST").as_deref(),
            Some("2020-04-23T12:27:00Z")
        );
        // Central Standard Time in the US, or China's: the page's local time, no zone.
        assert_eq!(
            read("Oct. 9, 2010 - 7:28 AM CST").as_deref(),
            Some("2010-10-09T07:28:00")
        );
    }

    #[test]
    fn month_names_in_other_languages() {
        assert_eq!(
            read("вторник, 24 апреля 2018 г., 07:12").as_deref(),
            Some("2018-04-24T07:12:00")
        );
        assert_eq!(
            read("23. Juni 2016 um 17:21").as_deref(),
            Some("2016-06-23T17:21:00")
        );
        assert_eq!(
            read("12 décembre 2019 à 9:05").as_deref(),
            Some("2019-12-12T09:05:00")
        );
        assert_eq!(
            read("3 de marzo de 2020 13:00").as_deref(),
            Some("2020-03-03T13:00:00")
        );
    }

    #[test]
    fn relative_times_count_back_from_the_saved_moment() {
        let a = saved("2018-04-24T12:00:00Z");
        assert_eq!(
            iso("8 hours ago", &a, false).as_deref(),
            Some("2018-04-24T04:00:00Z")
        );
        assert_eq!(
            iso("an hour ago", &a, false).as_deref(),
            Some("2018-04-24T11:00:00Z")
        );
        assert_eq!(
            iso("5 mins ago", &a, false).as_deref(),
            Some("2018-04-24T11:55:00Z")
        );
        assert_eq!(
            iso("368 days ago", &a, false).as_deref(),
            Some("2017-04-21")
        );
        assert_eq!(
            iso("1 week ago (edited)", &a, false).as_deref(),
            Some("2018-04-17")
        );
        assert_eq!(iso("2 months ago", &a, false).as_deref(), Some("2018-02"));
        assert_eq!(iso("3y ago", &a, false).as_deref(), Some("2015"));
        assert_eq!(
            iso("3 hr. ago", &a, false).as_deref(),
            Some("2018-04-24T09:00:00Z")
        );
        assert_eq!(
            iso("30s ago", &a, false).as_deref(),
            Some("2018-04-24T11:59:30Z")
        );
        assert_eq!(
            iso("vor 8 Stunden", &a, false).as_deref(),
            iso("8 hours ago", &a, false).as_deref()
        );
        assert_eq!(
            iso("vor einem Tag", &a, false).as_deref(),
            iso("1 day ago", &a, false).as_deref()
        );
        assert_eq!(iso("vor 2 Monaten", &a, false).as_deref(), Some("2018-02"));
        assert_eq!(iso("vor 5 Min.", &a, false), iso("5 mins ago", &a, false));
        assert_eq!(read("8 hours ago"), None, "no saved moment, no time");
    }

    #[test]
    fn year_less_dates_take_the_anchor_year() {
        let a = Anchor {
            saved: None,
            year: Some(2007),
        };
        assert_eq!(
            iso("Friday July 06, @08:55AM", &a, false).as_deref(),
            Some("2007-07-06T08:55:00")
        );
        assert_eq!(read("Friday July 06, @08:55AM"), None);
        let wp = Anchor {
            saved: None,
            year: Some(2019),
        };
        assert_eq!(
            iso("Jun 20th at 2:41 am", &wp, false).as_deref(),
            Some("2019-06-20T02:41:00")
        );
        let before = saved("2018-01-10T00:00:00Z");
        assert_eq!(
            iso("Dec 30 14:00", &before, false).as_deref(),
            Some("2017-12-30T14:00:00")
        );
    }

    #[test]
    fn unreadable_or_ambiguous_values_give_no_time() {
        for raw in [
            "",
            "yesterday-ish",
            "03/04/2018",
            "Reply",
            "99:99",
            "2018",
            "march on",
        ] {
            assert_eq!(read(raw), None, "{raw}");
        }
        assert_eq!(read("04/24/2018").as_deref(), Some("2018-04-24"));
        assert_eq!(
            read("06-15-2016, 03:03 PM").as_deref(),
            Some("2016-06-15T15:03:00")
        );
        assert_eq!(read("03-04-2016"), None);
        let singlefile = "Tue Apr 24 2018 14:00:00 GMT+0200";
        assert_eq!(read(singlefile).as_deref(), Some("2018-04-24T12:00:00Z"));
        assert_eq!(
            moment("2018-04-24").map(|t| t.to_string()).as_deref(),
            Some("2018-04-24T00:00:00Z")
        );
    }
}
