//! Line labels from templates (HD-PROV-1): `[[first_name]]`, `[[last_name]]` and
//! `[[extension]]` tokens among static text, e.g. `hot desk [[first_name]] [[last_name]]
//! [[extension]]` → `hot desk Bob Smith 4545`.

/// Why a label template was refused; positions are byte offsets into the template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// A `[[…]]` token that is not one of the three known names.
    #[error("unknown token [[{token}]] at position {position}")]
    UnknownToken {
        /// The name between the brackets.
        token: String,
        /// Offset of the opening `[[`.
        position: usize,
    },
    /// A `[[` with no closing `]]`.
    #[error("unclosed token at position {position}")]
    Unclosed {
        /// Offset of the opening `[[`.
        position: usize,
    },
}

/// The values a label shows: the logged-in user's, or the anchor's when free (empty
/// names, the anchor extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LabelValues<'a> {
    /// `[[first_name]]`.
    pub first_name: &'a str,
    /// `[[last_name]]`.
    pub last_name: &'a str,
    /// `[[extension]]`.
    pub extension: &'a str,
}

enum Piece<'t> {
    Text(&'t str),
    FirstName,
    LastName,
    Extension,
}

fn parse(template: &str) -> Result<Vec<Piece<'_>>, LabelError> {
    let mut pieces = Vec::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(open) = rest.find("[[") {
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        let position = offset + open;
        let after = &rest[open + 2..];
        let close = after.find("]]").ok_or(LabelError::Unclosed { position })?;
        let piece = match &after[..close] {
            "first_name" => Piece::FirstName,
            "last_name" => Piece::LastName,
            "extension" => Piece::Extension,
            other => {
                return Err(LabelError::UnknownToken {
                    token: other.to_owned(),
                    position,
                })
            }
        };
        pieces.push(piece);
        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// Checks a template when an administrator saves it.
pub fn validate(template: &str) -> Result<(), LabelError> {
    parse(template).map(|_| ())
}

/// Renders `template`. Runs of spaces left by empty values collapse to one and the ends
/// are trimmed, so a free desk's `hot desk [[first_name]] [[last_name]] [[extension]]`
/// reads `hot desk 94001`.
pub fn render(template: &str, values: &LabelValues<'_>) -> Result<String, LabelError> {
    let mut raw = String::with_capacity(template.len() + 32);
    for piece in parse(template)? {
        raw.push_str(match piece {
            Piece::Text(text) => text,
            Piece::FirstName => values.first_name,
            Piece::LastName => values.last_name,
            Piece::Extension => values.extension,
        });
    }
    Ok(raw.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOB: LabelValues<'static> = LabelValues {
        first_name: "Bob",
        last_name: "Smith",
        extension: "4545",
    };

    #[test]
    fn hd_prov_1_tokens_and_static_text() {
        let template = "hot desk [[first_name]] [[last_name]] [[extension]]";
        assert_eq!(render(template, &BOB), Ok("hot desk Bob Smith 4545".into()));
        assert_eq!(
            render("[[extension]]-[[last_name]]", &BOB),
            Ok("4545-Smith".into())
        );
        assert_eq!(render("Reception", &BOB), Ok("Reception".into()));
        assert_eq!(render("", &BOB), Ok(String::new()));
    }

    #[test]
    fn hd_prov_1_free_desk_collapses_empty_names() {
        let free = LabelValues {
            extension: "94001",
            ..LabelValues::default()
        };
        let template = "hot desk [[first_name]] [[last_name]] [[extension]]";
        assert_eq!(render(template, &free), Ok("hot desk 94001".into()));
    }

    #[test]
    fn hd_prov_1_unknown_token_named_with_position() {
        assert_eq!(
            render("desk [[first_name]] [[email]]", &BOB),
            Err(LabelError::UnknownToken {
                token: "email".into(),
                position: 20
            })
        );
        assert_eq!(
            validate("[[First_Name]]"),
            Err(LabelError::UnknownToken {
                token: "First_Name".into(),
                position: 0
            })
        );
        assert_eq!(
            validate("a [[extension"),
            Err(LabelError::Unclosed { position: 2 })
        );
        // A lone "[" or "]]" is static text.
        assert_eq!(
            render("[x] ]] [[extension]]", &BOB),
            Ok("[x] ]] 4545".into())
        );
    }

    #[test]
    fn hd_prov_1_values_are_not_reparsed() {
        let sneaky = LabelValues {
            first_name: "[[last_name]]",
            ..BOB
        };
        assert_eq!(
            render("[[first_name]]", &sneaky),
            Ok("[[last_name]]".into())
        );
    }
}
