//! Rendering in the active language with Fluent (NC-R11).
//!
//! The catalogs live in `crates/domain/locales/<lang>/lonceng.ftl` and are compiled into the binary; the
//! bell window loads the same files, so the list and the toasts always say the same thing. Rendering
//! takes kind + parameters + language and nothing else, so switching the language re-renders every
//! stored notification, old ones included.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

use crate::model::{keyed_enum, Kind, ParamValue, Params};

keyed_enum! {
    /// A language Lonceng speaks.
    #[derive(Default)]
    Lang { #[default] En = "en", Id = "id" }
}

impl Lang {
    /// The catalog source, for the UI to load.
    pub fn ftl(self) -> &'static str {
        match self {
            Lang::En => include_str!("../locales/en/lonceng.ftl"),
            Lang::Id => include_str!("../locales/id/lonceng.ftl"),
        }
    }

    /// The language for an operating system's locale (`id_ID.UTF-8`, `id-ID`, `in`, `en_US`, …):
    /// Indonesian for an Indonesian locale, English otherwise. `in` is Indonesian's code before
    /// 1989, which Java and old Android systems still give.
    pub fn from_locale(locale: &str) -> Lang {
        let language = locale.split(['_', '-', '.', '@']).next().unwrap_or_default();
        match language.to_ascii_lowercase().as_str() {
            "id" | "in" | "ind" => Lang::Id,
            _ => Lang::En,
        }
    }

    /// The language's own name, for the language menu.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Id => "Bahasa Indonesia",
        }
    }

    fn langid(self) -> LanguageIdentifier {
        match self {
            Lang::En => unic_langid::langid!("en"),
            Lang::Id => unic_langid::langid!("id"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("the {lang} catalog does not parse: {detail}")]
    Parse { lang: Lang, detail: String },
}

/// A notification rendered for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Toast title.
    pub title: String,
    /// List text and toast body.
    pub body: String,
}

/// Both languages' catalogs, ready to render. Cheap to share across threads.
pub struct Catalog {
    en: FluentBundle<FluentResource>,
    id: FluentBundle<FluentResource>,
}

impl Catalog {
    pub fn builtin() -> Result<Catalog, I18nError> {
        Ok(Catalog { en: bundle(Lang::En)?, id: bundle(Lang::Id)? })
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::En => &self.en,
            Lang::Id => &self.id,
        }
    }

    /// Renders a notification kind with its parameters.
    pub fn render(&self, lang: Lang, kind: Kind, params: &Params) -> Rendered {
        let args = to_args(params);
        let id = kind.message_id();
        Rendered {
            title: self.format(lang, &id, Some("title"), Some(&args)),
            body: self.format(lang, &id, None, Some(&args)),
        }
    }

    /// Renders any message (UI strings, chat toasts, summaries).
    pub fn message(&self, lang: Lang, id: &str, args: &[(&str, ParamValue)]) -> String {
        self.format(lang, id, None, Some(&arg_list(args)))
    }

    /// Renders a message attribute (e.g. a chat toast's `.title`).
    pub fn attribute(&self, lang: Lang, id: &str, attr: &str, args: &[(&str, ParamValue)]) -> String {
        self.format(lang, id, Some(attr), Some(&arg_list(args)))
    }

    /// A missing message renders as its id: visible and harmless (the catalog tests keep this from
    /// happening in a release). Argument errors leave Fluent's `{$name}` marker in place.
    fn format(&self, lang: Lang, id: &str, attr: Option<&str>, args: Option<&FluentArgs>) -> String {
        let bundle = self.bundle(lang);
        let Some(msg) = bundle.get_message(id) else { return id.to_owned() };
        let pattern = match attr {
            Some(a) => msg.get_attribute(a).map(|a| a.value()),
            None => msg.value(),
        };
        let Some(pattern) = pattern else { return id.to_owned() };
        let mut errors = Vec::new();
        bundle.format_pattern(pattern, args, &mut errors).into_owned()
    }

    /// Whether a message (and optionally its attribute) exists in a language.
    pub fn has(&self, lang: Lang, id: &str, attr: Option<&str>) -> bool {
        let bundle = self.bundle(lang);
        match (bundle.get_message(id), attr) {
            (Some(m), Some(a)) => m.get_attribute(a).is_some(),
            (Some(m), None) => m.value().is_some(),
            (None, _) => false,
        }
    }
}

fn bundle(lang: Lang) -> Result<FluentBundle<FluentResource>, I18nError> {
    let res = FluentResource::try_new(lang.ftl().to_owned())
        .map_err(|(_, errs)| I18nError::Parse { lang, detail: format!("{errs:?}") })?;
    let mut bundle = FluentBundle::new_concurrent(vec![lang.langid()]);
    // Every parameter is isolated (FSI … PDI): a name or title written right to left, or one that
    // pretends to be with bidi controls, cannot reorder the words around it ("INV…exe" posing as
    // "…jpg"). The window's Fluent does the same.
    bundle.set_use_isolating(true);
    // Whole numbers grouped as the language writes them, as the window's Intl formatting does, so a
    // toast and the list show the same "1,250" (English) or "1.250" (Indonesian).
    bundle.set_formatter(Some(match lang {
        Lang::En => |v, _| group(v, ','),
        Lang::Id => |v, _| group(v, '.'),
    }));
    bundle.add_resource(res).map_err(|errs| I18nError::Parse { lang, detail: format!("{errs:?}") })?;
    Ok(bundle)
}

/// Formats whole numbers of 1,000 or more with a thousands separator; leaves everything else to Fluent.
fn group(v: &FluentValue, sep: char) -> Option<String> {
    let FluentValue::Number(n) = v else { return None };
    if n.value.fract() != 0.0 || n.value.abs() < 1000.0 || n.value.abs() > 1e15 {
        return None;
    }
    let digits = format!("{}", n.value.abs() as u64);
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n.value < 0.0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    Some(out)
}

fn value(v: &ParamValue) -> FluentValue<'static> {
    match v {
        ParamValue::Count(n) => FluentValue::from(*n),
        ParamValue::Text(s) => FluentValue::from(strip_bidi_controls(s)),
    }
}

/// The explicit bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) are taken
/// out of parameter text: its direction comes from its own letters, inside the isolation Fluent
/// puts around it, and it can neither reverse what follows nor close that isolation early.
pub fn strip_bidi_controls(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')).collect()
}

fn to_args(params: &Params) -> FluentArgs<'static> {
    let mut args = FluentArgs::new();
    for (k, v) in &params.0 {
        args.set(k.clone(), value(v));
    }
    args
}

fn arg_list(list: &[(&str, ParamValue)]) -> FluentArgs<'static> {
    let mut args = FluentArgs::new();
    for (k, v) in list {
        args.set(k.to_string(), value(v));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_run_speaks_indonesian_where_the_system_does() {
        for id in ["id", "id_ID", "id_ID.UTF-8", "id-ID", "ID_id", "in", "in_ID", "ind", "id_ID@euro"] {
            assert_eq!(Lang::from_locale(id), Lang::Id, "{id}");
        }
        for en in ["", "C", "C.UTF-8", "POSIX", "en_US.UTF-8", "en-GB", "ms_MY", "jv_ID", "idx", "nl_NL"] {
            assert_eq!(Lang::from_locale(en), Lang::En, "{en}");
        }
    }
    use crate::model::{Category, ParamType, Tab, CHANNELS};
    use fluent_syntax::ast;
    use std::collections::{BTreeMap, BTreeSet};

    /// message id -> (attribute ids, variables referenced anywhere in the message)
    type Shape = BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>;

    fn shape(lang: Lang) -> Shape {
        let res = fluent_syntax::parser::parse(lang.ftl()).expect("catalog parses");
        let mut out = Shape::new();
        for entry in res.body {
            if let ast::Entry::Message(m) = entry {
                let mut vars = BTreeSet::new();
                if let Some(p) = &m.value {
                    pattern_vars(p, &mut vars);
                }
                let mut attrs = BTreeSet::new();
                for a in &m.attributes {
                    attrs.insert(a.id.name.to_string());
                    pattern_vars(&a.value, &mut vars);
                }
                assert!(
                    out.insert(m.id.name.to_string(), (attrs, vars)).is_none(),
                    "duplicate {}",
                    m.id.name
                );
            }
        }
        out
    }

    fn pattern_vars(p: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
        for el in &p.elements {
            if let ast::PatternElement::Placeable { expression } = el {
                expr_vars(expression, out);
            }
        }
    }

    fn expr_vars(e: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
        match e {
            ast::Expression::Select { selector, variants } => {
                inline_vars(selector, out);
                for v in variants {
                    pattern_vars(&v.value, out);
                }
            }
            ast::Expression::Inline(i) => inline_vars(i, out),
        }
    }

    fn inline_vars(i: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
        match i {
            ast::InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_string());
            }
            ast::InlineExpression::Placeable { expression } => expr_vars(expression, out),
            ast::InlineExpression::FunctionReference { arguments, .. } => {
                for a in &arguments.positional {
                    inline_vars(a, out);
                }
                for a in &arguments.named {
                    inline_vars(&a.value, out);
                }
            }
            _ => {}
        }
    }

    // NC-R11
    #[test]
    fn nc_r11_both_languages_define_the_same_messages_attributes_and_variables() {
        let (en, id) = (shape(Lang::En), shape(Lang::Id));
        let en_ids: BTreeSet<_> = en.keys().collect();
        let id_ids: BTreeSet<_> = id.keys().collect();
        assert_eq!(
            en_ids.symmetric_difference(&id_ids).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "messages present in only one language"
        );
        for (msg, (attrs, vars)) in &en {
            let (id_attrs, id_vars) = &id[msg];
            assert_eq!(attrs, id_attrs, "attributes of {msg}");
            assert_eq!(vars, id_vars, "variables of {msg}");
        }
    }

    // NC-R11
    #[test]
    fn nc_r11_every_kind_has_text_and_title_using_only_its_own_parameters() {
        for lang in Lang::ALL {
            let shape = shape(*lang);
            for kind in Kind::ALL {
                let id = kind.message_id();
                let (attrs, vars) = shape.get(&id).unwrap_or_else(|| panic!("{lang}: no message {id}"));
                assert!(attrs.contains("title"), "{lang}: {id} has no .title");
                let allowed: BTreeSet<String> = kind.params().iter().map(|p| p.name.to_string()).collect();
                let stray: Vec<_> = vars.difference(&allowed).collect();
                assert!(stray.is_empty(), "{lang}: {id} references {stray:?}, not parameters of {kind}");
            }
        }
    }

    #[test]
    fn every_tab_category_and_ui_string_is_translated() {
        let catalog = Catalog::builtin().unwrap();
        let mut ids: Vec<String> = Tab::ALL.iter().map(|t| format!("tab-{t}")).collect();
        ids.extend(Category::ALL.iter().map(|c| format!("category-{c}")));
        for lang in Lang::ALL {
            for id in &ids {
                assert!(catalog.has(*lang, id, None), "{lang}: {id}");
            }
        }
    }

    /// A parameter set using each choice value in turn, so every variant of every message renders.
    fn sample_params(kind: Kind) -> Vec<Params> {
        let mut base = Params::new();
        let mut choices = Vec::new();
        for spec in kind.params() {
            match spec.ty {
                ParamType::Text => base = base.with(spec.name, format!("«{}»", spec.name)),
                ParamType::Count => base = base.with(spec.name, 2),
                ParamType::Choice(values) => {
                    base = base.with(spec.name, values[0]);
                    choices.push((spec.name, values));
                }
            }
        }
        let mut out = vec![base.clone()];
        for (name, values) in choices {
            for v in values.iter().chain(&["unheard_of"]) {
                out.push(base.clone().with(name, *v));
            }
        }
        for count in [0, 1, 1_000_000] {
            let mut p = base.clone();
            for spec in kind.params().iter().filter(|s| s.ty == ParamType::Count) {
                p = p.with(spec.name, count);
            }
            out.push(p);
        }
        out
    }

    #[test]
    fn every_kind_renders_without_errors_in_both_languages() {
        let catalog = Catalog::builtin().unwrap();
        for lang in Lang::ALL {
            for kind in Kind::ALL {
                for params in sample_params(*kind) {
                    let r = catalog.render(*lang, *kind, &params);
                    for s in [&r.title, &r.body] {
                        assert!(!s.is_empty() && !s.contains('{') && !s.contains('}'), "{lang} {kind}: {s}");
                    }
                    // Every text parameter reaches the text the agent reads.
                    for spec in kind.params().iter().filter(|s| s.ty == ParamType::Text) {
                        let shown = format!("«{}»", spec.name);
                        assert!(
                            r.body.contains(&shown) || r.title.contains(&shown),
                            "{lang} {kind}: {spec:?} not shown"
                        );
                    }
                }
            }
        }
    }

    // NC-R11: the same stored item, rendered in either language, reads exactly as the shared cases
    // say; the window renders the same cases (ui/tests/unit.test.ts).
    #[test]
    fn nc_r11_the_shared_cases_render_the_same_in_rust_as_in_the_window() {
        let catalog = Catalog::builtin().unwrap();
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/contract/i18n.json")).unwrap();
        let cases = doc["cases"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for case in cases {
            let lang: Lang = case["lang"].as_str().unwrap().parse().unwrap();
            let text = case["text"].as_str().unwrap();
            if let Some(kind) = case["kind"].as_str() {
                let params: Params = serde_json::from_value(case["params"].clone()).unwrap();
                let r = catalog.render(lang, kind.parse().unwrap(), &params);
                assert_eq!(r.body, text, "{case}");
                if let Some(title) = case["title"].as_str() {
                    assert_eq!(r.title, title, "{case}");
                }
            } else {
                let id = case["message"].as_str().unwrap();
                let args: Vec<(String, ParamValue)> = case["args"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::from_value(v.clone()).unwrap()))
                    .collect();
                let args: Vec<(&str, ParamValue)> =
                    args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                assert_eq!(catalog.message(lang, id, &args), text, "{case}");
            }
        }
    }

    #[test]
    fn chat_toasts_name_every_known_channel() {
        let catalog = Catalog::builtin().unwrap();
        for channel in CHANNELS {
            let title = catalog.attribute(
                Lang::En,
                "chat-message",
                "title",
                &[("sender", "Budi".into()), ("channel", (*channel).into())],
            );
            assert!(!title.ends_with(" on chat"), "{channel} has no name: {title}");
        }
    }
}
