//! Parsed values kept beside the text they borrow from: each `&str` inside is stored as
//! offsets into one base string and rebuilt from it on demand, so a header parsed once (by
//! the parser's checks) is read again by every layer without being parsed again.

/// Where a sub-slice sits in its base string. Offsets are `u32`: header values are small.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// The position of `s` in `base`; `s` must be a sub-slice of `base` (every parser here
    /// returns slices of its input). An empty `s` may come from anywhere: it stays empty.
    pub(crate) fn of(base: &str, s: &str) -> Self {
        if s.is_empty() {
            return Self::default();
        }
        let start = (s.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
        debug_assert!(start + s.len() <= base.len(), "not a sub-slice of its base");
        Self {
            start: start as u32,
            end: (start + s.len()) as u32,
        }
    }

    /// The text at this position in `base`.
    pub(crate) fn get(self, base: &str) -> &str {
        base.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// A value borrowing from one string, turned into offsets and back.
pub(crate) trait Rebase<'a>: Sized {
    /// The value with its slices as [`Span`]s.
    type Spans: Copy + std::fmt::Debug;
    /// The offsets of this value's slices within `base`.
    fn spans(&self, base: &str) -> Self::Spans;
    /// The value again, its slices taken from `base` (the same text `spans` saw).
    fn rebuild(base: &'a str, spans: &Self::Spans) -> Self;
}

impl<'a> Rebase<'a> for &'a str {
    type Spans = Span;
    fn spans(&self, base: &str) -> Span {
        Span::of(base, self)
    }
    fn rebuild(base: &'a str, spans: &Span) -> Self {
        spans.get(base)
    }
}

impl<'a, T: Rebase<'a>> Rebase<'a> for Option<T> {
    type Spans = Option<T::Spans>;
    fn spans(&self, base: &str) -> Self::Spans {
        self.as_ref().map(|v| v.spans(base))
    }
    fn rebuild(base: &'a str, spans: &Self::Spans) -> Self {
        spans.as_ref().map(|s| T::rebuild(base, s))
    }
}

/// Implements [`Rebase`] for a struct of borrowed fields (listed first, each itself
/// [`Rebase`], written with `'static`) and plain `Copy` fields (after `copy`); the offsets
/// form a generated struct named `$spans`.
macro_rules! rebase_struct {
    ($ty:ident => $spans:ident { $($field:ident : $fty:ty),* $(,)? } copy { $($c:ident : $cty:ty),* $(,)? }) => {
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct $spans {
            $($field: <$fty as $crate::spans::Rebase<'static>>::Spans,)*
            $($c: $cty,)*
        }
        impl<'a> $crate::spans::Rebase<'a> for $ty<'a> {
            type Spans = $spans;
            fn spans(&self, base: &str) -> $spans {
                $spans {
                    $($field: $crate::spans::Rebase::spans(&self.$field, base),)*
                    $($c: self.$c,)*
                }
            }
            fn rebuild(base: &'a str, s: &$spans) -> Self {
                $ty {
                    $($field: $crate::spans::Rebase::rebuild(base, &s.$field),)*
                    $($c: s.$c,)*
                }
            }
        }
    };
}
pub(crate) use rebase_struct;
