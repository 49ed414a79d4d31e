//! The template engine (minijinja) with the seed's bracket syntax: `[[ first_name ]]` for a
//! value, `[% if … %]…[% endif %]` for logic, `[# … #]` for comments. Templates are checked
//! when an administrator saves them — syntax, and every name against the variables a
//! phone file is rendered with — so errors come back at upload with line and column, never
//! at the phone (HD-PROV-1, HD-PROV-5).

use std::sync::{PoisonError, RwLock};

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde::Serialize;

/// Why a template was refused; `line` and `column` are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The text does not parse (unclosed tag, bad expression, unknown block).
    #[error("syntax error at line {line}, column {column}: {detail}")]
    Syntax {
        /// Line of the fault.
        line: usize,
        /// Column of the fault.
        column: usize,
        /// What the parser expected.
        detail: String,
    },
    /// A name that is not one of the template variables (or a field they lack).
    #[error("unknown token {token} at line {line}, column {column}")]
    UnknownToken {
        /// The token as written.
        token: String,
        /// Line of the token.
        line: usize,
        /// Column of the token.
        column: usize,
    },
    /// The template parses but fails when rendered (a filter on a wrong type, …).
    #[error("template fails at line {line}, column {column}: {detail}")]
    Render {
        /// Line of the fault.
        line: usize,
        /// Column of the fault.
        column: usize,
        /// What failed.
        detail: String,
    },
}

/// Line and column (1-based) of byte `offset` in `source`.
pub fn position(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset.min(source.len())).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(1, |tail| tail.chars().count() + 1);
    (line, column)
}

fn convert(source: &str, error: &minijinja::Error) -> TemplateError {
    let (line, column) = match error.range() {
        Some(range) => position(source, range.start),
        None => (error.line().unwrap_or(1), 1),
    };
    let detail = error
        .detail()
        .map_or_else(|| error.kind().to_string(), str::to_owned);
    match error.kind() {
        ErrorKind::SyntaxError | ErrorKind::UnknownBlock => TemplateError::Syntax {
            line,
            column,
            detail,
        },
        ErrorKind::UndefinedError
        | ErrorKind::UnknownFilter
        | ErrorKind::UnknownTest
        | ErrorKind::UnknownFunction
        | ErrorKind::UnknownMethod => {
            let token = error
                .range()
                .and_then(|r| source.get(r))
                .unwrap_or("?")
                .trim()
                .to_owned();
            TemplateError::UnknownToken {
                token,
                line,
                column,
            }
        }
        _ => TemplateError::Render {
            line,
            column,
            detail,
        },
    }
}

/// The syntax every hotdesk template uses.
fn syntax() -> SyntaxConfig {
    // Fixed delimiters that differ from one another: the builder cannot fail on them.
    SyntaxConfig::builder()
        .block_delimiters("[%", "%]")
        .variable_delimiters("[[", "]]")
        .comment_delimiters("[#", "#]")
        .build()
        .unwrap_or_default()
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_syntax(syntax());
    // Strict: a name the context lacks is an error, caught at upload by the sample render.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    // Phone files are plain text or XML the template escapes itself (`| e`).
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}

/// Compiled templates by name; rendering shares a read guard.
pub struct Engine {
    env: RwLock<Environment<'static>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self {
            env: RwLock::new(environment()),
        }
    }
}

impl Engine {
    /// Checks `source`: it must parse and render against `sample` (a context with every
    /// variable and one element in every list) without touching an unknown name.
    pub fn check<S: Serialize>(source: &str, sample: &S) -> Result<(), TemplateError> {
        Self::render_source(source, sample).map(drop)
    }

    /// Renders `source` once, without keeping it: a draft shown before it is saved.
    pub fn render_source<S: Serialize>(source: &str, context: &S) -> Result<String, TemplateError> {
        let env = environment();
        let template = env
            .template_from_str(source)
            .map_err(|e| convert(source, &e))?;
        template.render(context).map_err(|e| convert(source, &e))
    }

    /// Compiles `source` under `name`, replacing any template of that name.
    pub fn insert(&self, name: &str, source: &str) -> Result<(), TemplateError> {
        self.env
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .add_template_owned(name.to_owned(), source.to_owned())
            .map_err(|e| convert(source, &e))
    }

    /// Forgets the template `name`.
    pub fn remove(&self, name: &str) {
        self.env
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove_template(name);
    }

    /// Renders the template `name` with `context`.
    pub fn render<S: Serialize>(&self, name: &str, context: &S) -> Result<String, RenderError> {
        let env = self.env.read().unwrap_or_else(PoisonError::into_inner);
        let template = env.get_template(name).map_err(|_| RenderError::Missing {
            name: name.to_owned(),
        })?;
        template.render(context).map_err(|e| RenderError::Failed {
            name: name.to_owned(),
            detail: e.to_string(),
        })
    }
}

/// A checked template failed at render time (a bug or a changed context), or is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// No template has this name.
    #[error("no template named {name}")]
    Missing {
        /// The name asked for.
        name: String,
    },
    /// Rendering failed.
    #[error("template {name} failed: {detail}")]
    Failed {
        /// The template.
        name: String,
        /// minijinja's message.
        detail: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> serde_json::Value {
        json!({"first_name": "Bob", "keys": [{"label": "x"}]})
    }

    #[test]
    fn hd_prov_1_bracket_tokens_render() {
        let engine = Engine::default();
        engine
            .insert(
                "t",
                "hi [[ first_name ]][% for k in keys %] [[k.label]][% endfor %]\n",
            )
            .unwrap();
        assert_eq!(engine.render("t", &sample()).unwrap(), "hi Bob x\n");
    }

    #[test]
    fn hd_prov_5_unknown_token_has_line_and_column() {
        let error = Engine::check("a\nb [[ first_name ]] [[ email ]]\n", &sample()).unwrap_err();
        assert_eq!(
            error,
            TemplateError::UnknownToken {
                token: "email".into(),
                line: 2,
                column: 23
            }
        );
        let error = Engine::check("[% for k in keys %][[ k.nope ]][% endfor %]", &sample());
        assert!(matches!(
            error,
            Err(TemplateError::UnknownToken { line: 1, .. })
        ));
    }

    #[test]
    fn hd_prov_5_syntax_error_has_line_and_column() {
        let error = Engine::check("ok\n  [% if first_name %]\nno end", &sample()).unwrap_err();
        assert!(
            matches!(
                error,
                TemplateError::Syntax {
                    line: 2,
                    column: 22,
                    ..
                }
            ),
            "{error:?}"
        );
        let error = Engine::check("x [[ first_name ", &sample()).unwrap_err();
        assert!(
            matches!(
                error,
                TemplateError::Syntax {
                    line: 1,
                    column: 6,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn position_counts_lines_and_chars() {
        assert_eq!(position("ab\ncd", 0), (1, 1));
        assert_eq!(position("ab\ncd", 4), (2, 2));
        assert_eq!(position("é\nx", 3), (2, 1));
    }
}
