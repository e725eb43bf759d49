//! Which language a comment is in, and whether the models can score it (issue 37 item 5). The
//! encoder and every head were trained on English: a comment in another language gets scores
//! that mean nothing, so it must neither be flagged nor cleared by them. Detection is the
//! `whatlang` crate's (trigram profiles, no model files). A short English comment must not lose
//! its score to a wrong guess: measured on English comments (models/README.md, "Comments in
//! other languages"), the detector still reads some markup and short English as French, so
//! taking scores away is a moderator's choice (`[language]` in the thresholds file), off by
//! default. The detected language is always reported. It lives below every front end, with the
//! scorer that records it, so `score`, `analyze`, `merge` and `serve` agree.

/// The word minimum `[language]` uses when the thresholds file turns the rule on without one.
pub const DEFAULT_MIN_WORDS: usize = 5;

/// The ISO 639-3 code of English, the language the models were trained on.
pub const ENGLISH: &str = "eng";

/// The language whatlang finds in the [`prose`] of `text`, as an ISO 639-3 code (`eng`, `spa`,
/// `deu`…), when it calls its guess reliable; `None` when it is unsure or finds nothing.
pub fn detect(text: &str) -> Option<&'static str> {
    whatlang::detect(&prose(text))
        .filter(whatlang::Info::is_reliable)
        .map(|info| info.lang().code())
}

/// Words in the sense of the rule's word minimum: whitespace-separated tokens of the [`prose`]
/// with at least one letter.
pub fn words(text: &str) -> usize {
    prose(text)
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count()
}

/// The text as prose (amendment language v1.1): without URLs, markdown link targets, HTML
/// character references and markup characters, which read as French or Welsh to a trigram
/// detector ("[overwatchleague_fr Reddit-stream &gt;").
pub fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for token in text.split_whitespace() {
        let lower = token.to_ascii_lowercase();
        if lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www.")
        {
            continue;
        }
        // `[label](target)`: keep the label, drop the target.
        let token = match token.find("](") {
            Some(k) => &token[..k],
            None => token,
        };
        let mut rest = token;
        while !rest.is_empty() {
            // `&gt;`, `&#8217;`, `&#x27;`: dropped whole.
            if let Some(after) = rest.strip_prefix('&') {
                let end = after.find(';').filter(|&e| {
                    e > 0
                        && e <= 8
                        && after[..e]
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '#')
                });
                if let Some(e) = end {
                    out.push(' ');
                    rest = &after[e + 1..];
                    continue;
                }
            }
            let c = rest.chars().next().unwrap_or(' ');
            out.push(if "#*_^[]()>|~`".contains(c) { ' ' } else { c });
            rest = &rest[c.len_utf8()..];
        }
        out.push(' ');
    }
    out
}

/// The language a comment is in when it is one the models cannot score: `detected` (from
/// [`detect`]) names a language other than English and `text` has at least `min_words` words.
pub fn unscored(
    detected: Option<&'static str>,
    text: &str,
    min_words: usize,
) -> Option<&'static str> {
    detected.filter(|&code| code != ENGLISH && words(text) >= min_words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_comment_in_another_language_is_read_as_it() {
        let de = "Das ist wirklich der dümmste Kommentar, den ich heute gelesen habe.";
        assert_eq!(unscored(detect(de), de, DEFAULT_MIN_WORDS), Some("deu"));
        let fr =
            "Il faudrait vraiment être stupide pour ne pas voir que ce projet est une arnaque.";
        assert_eq!(unscored(detect(fr), fr, DEFAULT_MIN_WORDS), Some("fra"));
        // whatlang is not sure of this Spanish one (0.86): unsure guesses take nothing away.
        let es = "Eres un idiota y nadie en este foro quiere leer tus tonterías de siempre.";
        assert_eq!(detect(es), None);
    }

    #[test]
    fn english_and_short_comments_keep_their_scores() {
        let en = "That's Texas roadhouse dude. It's a chain restaurant.";
        assert_eq!(unscored(detect(en), en, DEFAULT_MIN_WORDS), None);
        // Whatever the guess on a few words, they are scored as English.
        for short in ["Sh'all, aight.", "Oh god damn it", "Ignorant", "Muy bien"] {
            assert_eq!(
                unscored(detect(short), short, DEFAULT_MIN_WORDS),
                None,
                "{short}"
            );
        }
        assert_eq!(words("a 123 -- b"), 2);
    }

    #[test]
    fn markup_is_not_prose() {
        assert_eq!(
            prose("[GIFV link](https://i.imgur.com/x.gifv) &gt; **bold** see www.x.org &#8217;s"),
            " GIFV link     bold   see  s "
        );
        let md = "&gt; ## **Overwatch League 2019 Season** &gt;####Playoffs: Quarterfinals &gt; \
                  &gt;&gt; *Streams* ](#logos-c01-r03)[overwatchleague ](#logos-c01-r03)\
                  [overwatchleague_fr Reddit-stream &gt; &gt;";
        assert_ne!(detect(md), Some("fra"));
    }
}
