//! Perspective API's wire format for `comments:analyze` and `comments:suggestscore`, as in the
//! public reference (conversationai/perspectiveapi, "Methods"): the request and response
//! shapes, the attribute names and how they map onto threadlens's scores, and Google's error
//! JSON (`{"error": {"code", "message", "status"}}`). Validation lives here too, so every bad
//! request gets the same 400 shape whichever field is wrong. Plain data: no I/O, no model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::score::scorer::Scores;

/// Perspective's limit on a comment: 20 KB of text.
pub const MAX_COMMENT_BYTES: usize = 20 * 1024;

/// Languages the model was trained on.
pub const LANGUAGES: [&str; 1] = ["en"];

/// A Perspective attribute and where its value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Index into `Scores::toxicity` (`heads::TOXICITY_LABELS`).
    Toxicity(usize),
    /// Index into `Scores::sentiment` (negative, neutral, positive).
    Sentiment(usize),
    /// Index into `Scores::stance` (favor, against, none); needs a context or article text.
    Stance(usize),
}

/// Perspective's production attributes, then threadlens's own under its own prefix.
pub const ATTRIBUTES: [(&str, Source); 13] = [
    ("TOXICITY", Source::Toxicity(0)),
    ("INSULT", Source::Toxicity(1)),
    ("THREAT", Source::Toxicity(2)),
    ("PROFANITY", Source::Toxicity(3)),
    ("IDENTITY_ATTACK", Source::Toxicity(4)),
    ("SEVERE_TOXICITY", Source::Toxicity(5)),
    ("SEXUALLY_EXPLICIT", Source::Toxicity(6)),
    ("THREADLENS_SENTIMENT_NEGATIVE", Source::Sentiment(0)),
    ("THREADLENS_SENTIMENT_NEUTRAL", Source::Sentiment(1)),
    ("THREADLENS_SENTIMENT_POSITIVE", Source::Sentiment(2)),
    ("THREADLENS_STANCE_FAVOR", Source::Stance(0)),
    ("THREADLENS_STANCE_AGAINST", Source::Stance(1)),
    ("THREADLENS_STANCE_NONE", Source::Stance(2)),
];

/// The attribute called `name`, if there is one.
pub fn attribute(name: &str) -> Option<Source> {
    ATTRIBUTES.iter().find(|(n, _)| *n == name).map(|&(_, s)| s)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TextEntry {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Context {
    #[serde(default)]
    pub entries: Vec<TextEntry>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AttributeOptions {
    #[serde(default, rename = "scoreType")]
    pub score_type: Option<String>,
    #[serde(default, rename = "scoreThreshold")]
    pub score_threshold: Option<f64>,
}

/// `POST comments:analyze`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeRequest {
    pub comment: Option<TextEntry>,
    #[serde(default)]
    pub context: Option<Context>,
    #[serde(default)]
    pub requested_attributes: BTreeMap<String, AttributeOptions>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub do_not_store: bool,
    #[serde(default)]
    pub client_token: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub span_annotations: bool,
    #[serde(default)]
    pub community_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ScoreValue {
    pub value: f64,
    #[serde(rename = "type", default = "probability")]
    pub kind: String,
}

fn probability() -> String {
    "PROBABILITY".to_string()
}

#[derive(Debug, Clone, Serialize)]
pub struct SpanScore {
    pub begin: usize,
    pub end: usize,
    pub score: ScoreValue,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeScores {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub span_scores: Vec<SpanScore>,
    pub summary_score: ScoreValue,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeResponse {
    pub attribute_scores: BTreeMap<String, AttributeScores>,
    pub languages: Vec<String>,
    pub detected_languages: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

/// What a valid analyze request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub text: String,
    /// The stance target: the context entries' text, when given.
    pub context: Option<String>,
    pub attributes: Vec<(String, Source, Option<f64>)>,
    pub languages: Vec<String>,
    pub spans: bool,
    pub do_not_store: bool,
    pub client_token: Option<String>,
}

/// A request error: HTTP status, Google's status name, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: u16,
    pub status: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError {
            code: 400,
            status: "INVALID_ARGUMENT",
            message: message.into(),
        }
    }

    /// Google's error body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {"code": self.code, "message": self.message, "status": self.status}
        })
    }
}

/// A request body as JSON, or Perspective's 400 for malformed JSON.
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("Invalid JSON payload received. {e}")))
}

/// The request's `comment.text`, present and within Perspective's size limit.
fn comment_text(comment: Option<TextEntry>) -> Result<String, ApiError> {
    let text = comment
        .and_then(|c| c.text)
        .ok_or_else(|| ApiError::invalid("Comment must be specified (comment.text)."))?;
    if text.len() > MAX_COMMENT_BYTES {
        return Err(ApiError::invalid(format!(
            "Comment text too long: {} bytes, the limit is {MAX_COMMENT_BYTES}.",
            text.len()
        )));
    }
    Ok(text)
}

/// Parses and checks an analyze request body.
pub fn parse_analyze(body: &[u8]) -> Result<Analysis, ApiError> {
    let req: AnalyzeRequest = parse_json(body)?;
    let text = comment_text(req.comment)?;
    if req.requested_attributes.is_empty() {
        return Err(ApiError::invalid(
            "At least one requested attribute must be specified (requestedAttributes).",
        ));
    }
    let mut attributes = Vec::new();
    for (name, opts) in &req.requested_attributes {
        let source = attribute(name).ok_or_else(|| {
            ApiError::invalid(format!(
                "Unknown requested attribute: {name}. Known: {}.",
                ATTRIBUTES.map(|(n, _)| n).join(", ")
            ))
        })?;
        if let Some(t) = opts.score_type.as_deref().filter(|t| *t != "PROBABILITY") {
            return Err(ApiError::invalid(format!(
                "Attribute {name}: score type {t} is not supported (PROBABILITY only)."
            )));
        }
        attributes.push((name.clone(), source, opts.score_threshold));
    }
    let languages = match req.languages.as_slice() {
        [] => LANGUAGES.map(String::from).to_vec(),
        given => {
            let unsupported: Vec<&str> = given
                .iter()
                .map(String::as_str)
                .filter(|l| {
                    !LANGUAGES.contains(&l.to_ascii_lowercase().split('-').next().unwrap_or(""))
                })
                .collect();
            if !unsupported.is_empty() {
                let (name, _, _) = &attributes[0];
                return Err(ApiError::invalid(format!(
                    "Attribute {name} does not support request languages: {}",
                    unsupported.join(", ")
                )));
            }
            given.to_vec()
        }
    };
    let context = req.context.map(|c| {
        c.entries
            .iter()
            .filter_map(|e| e.text.as_deref())
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(Analysis {
        text,
        context: context.filter(|c| !c.trim().is_empty()),
        attributes,
        languages,
        spans: req.span_annotations,
        do_not_store: req.do_not_store,
        client_token: req.client_token,
    })
}

/// The response for `a` given the text's scores. One span covers the whole text when spans
/// are asked for: the model scores a comment as a whole.
pub fn analyze_response(a: &Analysis, s: &Scores) -> AnalyzeResponse {
    let mut attribute_scores = BTreeMap::new();
    for (name, source, threshold) in &a.attributes {
        let value = match *source {
            Source::Toxicity(i) => Some(s.toxicity[i]),
            Source::Sentiment(i) => Some(s.sentiment[i]),
            Source::Stance(i) => s.stance.map(|st| st[i]),
        };
        // Perspective leaves out an attribute whose score is under the requested threshold;
        // a stance with nothing to take a stance on is left out too.
        let Some(value) = value.map(f64::from) else {
            continue;
        };
        if threshold.is_some_and(|t| value < t) {
            continue;
        }
        let score = ScoreValue {
            value,
            kind: probability(),
        };
        let span_scores = if a.spans {
            vec![SpanScore {
                begin: 0,
                end: a.text.chars().count(),
                score: score.clone(),
            }]
        } else {
            Vec::new()
        };
        attribute_scores.insert(
            name.clone(),
            AttributeScores {
                span_scores,
                summary_score: score,
            },
        );
    }
    AnalyzeResponse {
        attribute_scores,
        languages: a.languages.clone(),
        detected_languages: detected_languages(s.lang, &a.languages),
        client_token: a.client_token.clone(),
    }
}

/// `detectedLanguages`: the language the scorer's detector found (`score::lang`), as the ISO
/// 639-1 code Perspective uses where there is one (else its ISO 639-3 code); where the detector
/// is unsure, the languages the comment was scored as, so the list is never empty.
fn detected_languages(lang: Option<&'static str>, scored_as: &[String]) -> Vec<String> {
    match lang {
        Some(code) => vec![isolang::Language::from_639_3(code)
            .and_then(|l| l.to_639_1())
            .unwrap_or(code)
            .to_string()],
        None => scored_as.to_vec(),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SuggestedScore {
    #[serde(rename = "summaryScore")]
    pub summary_score: Option<ScoreValue>,
}

/// `POST comments:suggestscore`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuggestRequest {
    pub comment: Option<TextEntry>,
    #[serde(default)]
    pub context: Option<Context>,
    #[serde(default)]
    pub attribute_scores: BTreeMap<String, SuggestedScore>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub community_id: Option<String>,
    #[serde(default)]
    pub client_token: Option<String>,
}

/// One moderator decision: the comment, and 0/1 per attribute (value ≥ 0.5 → 1: Coral sends
/// 0 for APPROVED and 1 for REJECTED).
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub text: String,
    pub labels: Vec<(String, bool)>,
    pub client_token: Option<String>,
}

/// Parses and checks a suggestscore body.
pub fn parse_suggest(body: &[u8]) -> Result<Suggestion, ApiError> {
    let req: SuggestRequest = parse_json(body)?;
    let text = comment_text(req.comment)?;
    if req.attribute_scores.is_empty() {
        return Err(ApiError::invalid(
            "At least one attribute score must be given (attributeScores).",
        ));
    }
    let mut labels = Vec::new();
    for (name, score) in &req.attribute_scores {
        if !matches!(attribute(name), Some(Source::Toxicity(_))) {
            return Err(ApiError::invalid(format!(
                "Unknown attribute for a suggested score: {name}."
            )));
        }
        let value = score
            .summary_score
            .as_ref()
            .map(|s| s.value)
            .filter(|v| (0.0..=1.0).contains(v))
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "attributeScores.{name}.summaryScore.value must be a number from 0 to 1."
                ))
            })?;
        labels.push((name.clone(), value >= 0.5));
    }
    Ok(Suggestion {
        text,
        labels,
        client_token: req.client_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body Coral Talk's server posts (src/core/server/services/comments/pipeline/phases/
    /// toxic.ts in coralproject/talk): TOXICITY only, doNotStore, languages, a client token.
    const CORAL_ANALYZE: &str = r#"{"comment":{"text":"You are a fool."},"languages":["en"],"doNotStore":true,"requestedAttributes":{"TOXICITY":{}}}"#;

    #[test]
    fn coral_shaped_analyze_parses_and_answers_in_perspective_shape() {
        let a = parse_analyze(CORAL_ANALYZE.as_bytes()).expect("valid");
        assert_eq!(a.text, "You are a fool.");
        assert!(a.do_not_store);
        assert_eq!(a.attributes.len(), 1);
        let s = Scores {
            toxicity: [0.9, 0.8, 0.1, 0.2, 0.05, 0.3, 0.01],
            ..Scores::default()
        };
        let r = serde_json::to_value(analyze_response(&a, &s)).expect("json");
        assert_eq!(
            r["attributeScores"]["TOXICITY"]["summaryScore"]["type"],
            "PROBABILITY"
        );
        let v = r["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
            .as_f64()
            .expect("value");
        assert!((v - 0.9).abs() < 1e-6);
        assert_eq!(r["languages"][0], "en");
        assert!(r.get("clientToken").is_none());
        // Nothing detected: the language it was scored as.
        assert_eq!(r["detectedLanguages"], serde_json::json!(["en"]));
    }

    #[test]
    fn detected_languages_are_the_detectors_in_perspectives_codes() {
        let en = vec!["en".to_string()];
        assert_eq!(detected_languages(Some("deu"), &en), ["de"]);
        assert_eq!(detected_languages(Some("eng"), &en), ["en"]);
        assert_eq!(detected_languages(None, &en), ["en"]);
        // The detector's own reading of a German comment reaches the response.
        let german = "Das ist doch völliger Unsinn, was die Regierung da wieder beschlossen hat.";
        assert_eq!(
            detected_languages(crate::score::lang::detect(german), &en),
            ["de"]
        );
    }

    #[test]
    fn every_production_attribute_maps_to_its_own_score() {
        let names: Vec<&str> = ATTRIBUTES.iter().map(|(n, _)| *n).collect();
        let body = serde_json::json!({
            "comment": {"text": "x"},
            "requestedAttributes": names.iter().map(|n| (n.to_string(), serde_json::json!({}))).collect::<serde_json::Map<_, _>>(),
            "context": {"entries": [{"text": "the article"}]},
            "spanAnnotations": true,
            "clientToken": "t1",
        });
        let a = parse_analyze(body.to_string().as_bytes()).expect("valid");
        assert_eq!(a.context.as_deref(), Some("the article"));
        let s = Scores {
            sentiment: [0.1, 0.2, 0.7],
            toxicity: [0.11, 0.12, 0.13, 0.14, 0.15, 0.16, 0.17],
            stance: Some([0.6, 0.3, 0.1]),
            ..Default::default()
        };
        let r = analyze_response(&a, &s);
        let got = |n: &str| r.attribute_scores[n].summary_score.value;
        for (name, i) in [
            ("TOXICITY", 0),
            ("INSULT", 1),
            ("THREAT", 2),
            ("PROFANITY", 3),
            ("IDENTITY_ATTACK", 4),
            ("SEVERE_TOXICITY", 5),
            ("SEXUALLY_EXPLICIT", 6),
        ] {
            assert!(
                (got(name) - f64::from(s.toxicity[i])).abs() < 1e-9,
                "{name}"
            );
        }
        assert!((got("THREADLENS_STANCE_FAVOR") - 0.6).abs() < 1e-6);
        assert_eq!(r.attribute_scores["TOXICITY"].span_scores[0].end, 1);
        assert_eq!(r.client_token.as_deref(), Some("t1"));
    }

    #[test]
    fn bad_requests_get_400_with_a_message() {
        let cases: &[(&str, &str)] = &[
            ("{not json", "Invalid JSON"),
            (
                r#"{"requestedAttributes":{"TOXICITY":{}}}"#,
                "Comment must be specified",
            ),
            (
                r#"{"comment":{"text":"x"}}"#,
                "At least one requested attribute",
            ),
            (
                r#"{"comment":{"text":"x"},"requestedAttributes":{"NOPE":{}}}"#,
                "Unknown requested attribute: NOPE",
            ),
            (
                r#"{"comment":{"text":"x"},"requestedAttributes":{"TOXICITY":{}},"languages":["de"]}"#,
                "does not support request languages: de",
            ),
            (
                r#"{"comment":{"text":"x"},"requestedAttributes":{"TOXICITY":{"scoreType":"STD_DEV_SCORE"}}}"#,
                "PROBABILITY only",
            ),
        ];
        for (body, want) in cases {
            let e = parse_analyze(body.as_bytes()).expect_err(body);
            assert_eq!((e.code, e.status), (400, "INVALID_ARGUMENT"), "{body}");
            assert!(e.message.contains(want), "{body}: {}", e.message);
        }
        let long = serde_json::json!({"comment": {"text": "x".repeat(MAX_COMMENT_BYTES + 1)}, "requestedAttributes": {"TOXICITY": {}}});
        let e = parse_analyze(long.to_string().as_bytes()).expect_err("too long");
        assert!(e.message.contains("too long"), "{}", e.message);
    }

    #[test]
    fn coral_shaped_suggestscore_becomes_a_decision() {
        let body = r#"{"comment":{"text":"You are a fool."},"context":{"entries":[{"text":"parent"}]},"attributeScores":{"TOXICITY":{"summaryScore":{"value":1}}},"languages":["en"],"communityId":"Coral:site","clientToken":"comment-42"}"#;
        let s = parse_suggest(body.as_bytes()).expect("valid");
        assert_eq!(s.labels, [("TOXICITY".to_string(), true)]);
        assert_eq!(s.client_token.as_deref(), Some("comment-42"));
        let approved = body.replace("\"value\":1", "\"value\":0");
        assert!(!parse_suggest(approved.as_bytes()).expect("valid").labels[0].1);
        assert!(
            parse_suggest(br#"{"comment":{"text":"x"},"attributeScores":{"TOXICITY":{}}}"#)
                .is_err()
        );
    }
}
