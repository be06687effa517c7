//! Parsing: what the user wrote, the attribute's arguments and the item it is on.
//!
//! Nothing here generates code; `expand.rs` reads the structs built here.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Block, Ident, Item, ItemFn, LitStr, Signature, Token, Visibility, braced};

/// The arguments of `#[measure(...)]`: comma-separated `key = value` options.
#[derive(Default)]
pub(crate) struct MeasureArgs {
    /// `name = "..."`: the callsite's name, instead of the function's path.
    pub(crate) name: Option<LitStr>,
}

impl Parse for MeasureArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = MeasureArgs::default();
        while !input.is_empty() {
            if !input.peek(Ident::peek_any) {
                return Err(input.error("expected an option: `name = \"...\"`"));
            }
            // `parse_any` so that a keyword (`#[measure(type = ..)]`) is reported as an
            // unknown option rather than as "expected identifier".
            let key = input.call(Ident::parse_any)?;
            if key == "name" {
                if args.name.is_some() {
                    return Err(syn::Error::new(
                        key.span(),
                        "duplicate option `name`: #[measure] takes each option at most once",
                    ));
                }
                if !input.peek(Token![=]) {
                    return Err(syn::Error::new(key.span(), "expected `name = \"...\"`"));
                }
                input.parse::<Token![=]>()?;
                if !input.peek(LitStr) {
                    return Err(input.error("expected a string literal: `name = \"...\"`"));
                }
                let name: LitStr = input.parse()?;
                if name.value().is_empty() {
                    return Err(syn::Error::new(name.span(), "`name` must not be empty"));
                }
                args.name = Some(name);
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    format!("unknown option `{key}` for #[measure]; expected `name = \"...\"`"),
                ));
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

/// What `#[measure_all]` is on: an `impl` block or an inline module.
pub(crate) enum Container {
    Impl(syn::ItemImpl),
    Mod(syn::ItemMod),
}

/// Parses the item `#[measure_all]` is on, which takes no arguments. `Ok(None)`: the item
/// does not parse, and is left to rustc to report at the user's span.
pub(crate) fn parse_container(
    args: TokenStream,
    item: TokenStream,
) -> syn::Result<Option<Container>> {
    if let Some(first) = args.into_iter().next() {
        return Err(syn::Error::new(first.span(), "#[measure_all] takes no arguments"));
    }
    let Ok(item) = syn::parse2::<Item>(item) else { return Ok(None) };
    match item {
        Item::Impl(block) => Ok(Some(Container::Impl(block))),
        Item::Mod(module) if module.content.is_some() => Ok(Some(Container::Mod(module))),
        Item::Mod(module) => Err(syn::Error::new_spanned(
            item_head(&Item::Mod(module)),
            "#[measure_all] needs the module's items: put it on an inline `mod name { .. }`, or \
             on the `impl` blocks of the module's file",
        )),
        other => Err(syn::Error::new_spanned(
            item_head(&other),
            "#[measure_all] goes on an `impl` block or an inline `mod`",
        )),
    }
}

/// Whether `attr` is `#[measure]` / `#[perfscope::measure]` (the function is measured
/// already) or, with `name = "skip"`, `#[skip]` / `#[perfscope::skip]`.
pub(crate) fn is_perfscope_attr(attr: &Attribute, name: &str) -> bool {
    let segments: Vec<_> = attr.path().segments.iter().map(|s| s.ident.to_string()).collect();
    match segments.as_slice() {
        [only] => only == name,
        [krate, last] => krate == "perfscope" && last == name,
        _ => false,
    }
}

/// The function `#[measure]` is on.
pub(crate) struct MeasuredFn {
    pub(crate) outer_attrs: Vec<Attribute>,
    /// `#![...]` attributes at the top of the body; they must stay first in the new body.
    pub(crate) inner_attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) body: FnBody,
}

/// The body of a [`MeasuredFn`], without its inner attributes.
pub(crate) enum FnBody {
    /// The body parsed into statements, so its shape (e.g. `Box::pin(async move { .. })`)
    /// can be recognised.
    Parsed(Block),
    /// The body kept as tokens, because syn could not parse it: either it holds a syntax
    /// error, which rustc then reports at the user's span, or syntax syn does not know yet.
    Tokens { brace: syn::token::Brace, stmts: TokenStream },
}

/// Parses the item `#[measure]` is on.
///
/// `Ok(None)` means the item could not be parsed at all: the caller emits it unchanged so that
/// rustc reports the user's own syntax error at the user's span.
pub(crate) fn parse_item(item: TokenStream) -> syn::Result<Option<MeasuredFn>> {
    // Precise parse first: the body's statements are needed to recognise async shapes.
    if let Ok(item_fn) = syn::parse2::<ItemFn>(item.clone()) {
        let ItemFn { attrs, vis, sig, block } = item_fn;
        let (inner_attrs, outer_attrs) =
            attrs.into_iter().partition(|attr| matches!(attr.style, syn::AttrStyle::Inner(_)));
        let measured =
            MeasuredFn { outer_attrs, inner_attrs, vis, sig, body: FnBody::Parsed(*block) };
        return check(measured).map(Some);
    }
    // Speculative parse: the signature precisely, the body as tokens.
    match syn::parse2::<FnShell>(item.clone()) {
        Ok(FnShell {
            outer_attrs,
            vis,
            sig,
            body: ShellBody::Braced { brace, inner_attrs, stmts },
        }) => {
            let measured = MeasuredFn {
                outer_attrs,
                inner_attrs,
                vis,
                sig,
                body: FnBody::Tokens { brace, stmts },
            };
            check(measured).map(Some)
        }
        Ok(FnShell { sig, body: ShellBody::Semi(semi), .. }) => {
            if let Some(constness) = sig.constness {
                return Err(const_fn_error(constness));
            }
            Err(syn::Error::new_spanned(
                quote::quote!(#sig #semi),
                "#[measure] needs a function body: it cannot be used on a declaration without \
                 one (put it on the implementations instead)",
            ))
        }
        Err(_) => match syn::parse2::<Item>(item) {
            // Something else than a function, e.g. a struct.
            Ok(item) => Err(syn::Error::new_spanned(
                item_head(&item),
                "#[measure] can only be applied to functions",
            )),
            // A function with a syntax error in its signature, or garbage: leave it to rustc.
            Err(_) => Ok(None),
        },
    }
}

/// Rejects functions that parse but cannot be measured.
fn check(measured: MeasuredFn) -> syn::Result<MeasuredFn> {
    if let Some(constness) = measured.sig.constness {
        return Err(const_fn_error(constness));
    }
    Ok(measured)
}

fn const_fn_error(constness: Token![const]) -> syn::Error {
    syn::Error::new(
        constness.span,
        "#[measure] cannot be used on a `const fn`: measuring reads a clock at run time, which a \
         const fn cannot do",
    )
}

/// The tokens an error about a non-function item points at: its keyword(s) and name.
fn item_head(item: &Item) -> TokenStream {
    use quote::quote;
    match item {
        Item::Struct(s) => {
            let (kw, ident) = (&s.struct_token, &s.ident);
            quote!(#kw #ident)
        }
        Item::Enum(e) => {
            let (kw, ident) = (&e.enum_token, &e.ident);
            quote!(#kw #ident)
        }
        Item::Union(u) => {
            let (kw, ident) = (&u.union_token, &u.ident);
            quote!(#kw #ident)
        }
        Item::Trait(t) => {
            let (kw, ident) = (&t.trait_token, &t.ident);
            quote!(#kw #ident)
        }
        Item::Type(t) => {
            let (kw, ident) = (&t.type_token, &t.ident);
            quote!(#kw #ident)
        }
        Item::Const(c) => {
            let (kw, ident) = (&c.const_token, &c.ident);
            quote!(#kw #ident)
        }
        Item::Static(s) => {
            let (kw, ident) = (&s.static_token, &s.ident);
            quote!(#kw #ident)
        }
        Item::Mod(m) => {
            let (kw, ident) = (&m.mod_token, &m.ident);
            quote!(#kw #ident)
        }
        Item::Impl(i) => i.impl_token.into_token_stream(),
        Item::Fn(f) => {
            let (kw, ident) = (&f.sig.fn_token, &f.sig.ident);
            quote!(#kw #ident)
        }
        Item::Use(u) => u.use_token.into_token_stream(),
        other => other.to_token_stream(),
    }
}

/// A function whose body is only split into braces and tokens.
struct FnShell {
    outer_attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    body: ShellBody,
}

enum ShellBody {
    Braced {
        brace: syn::token::Brace,
        inner_attrs: Vec<Attribute>,
        stmts: TokenStream,
    },
    /// `fn f(&self);`: a declaration without a body.
    Semi(Token![;]),
}

impl Parse for FnShell {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let outer_attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let body = if input.peek(Token![;]) {
            ShellBody::Semi(input.parse()?)
        } else {
            let content;
            let brace = braced!(content in input);
            let inner_attrs = content.call(Attribute::parse_inner)?;
            ShellBody::Braced { brace, inner_attrs, stmts: content.parse()? }
        };
        Ok(FnShell { outer_attrs, vis, sig, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn args(tokens: TokenStream) -> syn::Result<MeasureArgs> {
        syn::parse2(tokens)
    }

    #[test]
    fn args_accept_nothing_or_a_name() {
        assert!(args(quote!()).expect("empty").name.is_none());
        let parsed = args(quote!(name = "db::query")).expect("name");
        assert_eq!(parsed.name.expect("name").value(), "db::query");
        assert!(args(quote!(name = "x",)).is_ok(), "a trailing comma is fine");
    }

    #[test]
    fn args_reject_unknown_duplicate_and_malformed_options() {
        let err = |tokens| args(tokens).err().expect("error").to_string();
        assert!(err(quote!(nmae = "x")).contains("unknown option `nmae`"));
        assert!(err(quote!(type = "x")).contains("unknown option `type`"));
        assert!(err(quote!(name = "x", name = "y")).contains("duplicate option `name`"));
        assert!(err(quote!(name = "")).contains("must not be empty"));
        assert!(args(quote!(name = 3)).is_err());
        assert!(args(quote!(name)).is_err());
        assert!(args(quote!("x")).is_err());
    }

    #[test]
    fn items_are_parsed_precisely_speculatively_or_rejected() {
        let parsed =
            parse_item(quote! { #[inline] pub fn f() { #![allow(unused)] 1 } }).expect("ok");
        let parsed = parsed.expect("a function");
        assert_eq!(parsed.outer_attrs.len(), 1);
        assert_eq!(parsed.inner_attrs.len(), 1);
        assert!(matches!(parsed.body, FnBody::Parsed(_)));

        let speculative = parse_item(quote!(fn f() { let x = ; })).expect("ok").expect("a fn");
        assert!(matches!(speculative.body, FnBody::Tokens { .. }));

        let err = |tokens| parse_item(tokens).err().expect("error").to_string();
        assert!(err(quote! { const fn f() {} }).contains("`const fn`"));
        assert!(err(quote! { struct S; }).contains("can only be applied to functions"));
        assert!(err(quote! { fn f(&self); }).contains("needs a function body"));

        assert!(parse_item(quote!(fn f(x: ) {})).expect("left to rustc").is_none());
    }
}
