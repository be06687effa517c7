//! Code generation: the measured function, from what `attr.rs` parsed.
//!
//! Generated code only names `::perfscope::__private`, so the logic (and the hot path) stays in
//! `perfscope-core`, where it is tested and benchmarked.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, ExprAsync, Item, ReturnType, Stmt, Type, TypeInfer};

use crate::attr::{Container, FnBody, MeasureArgs, MeasuredFn, is_perfscope_attr};

/// The measured function: the user's item with a callsite and a guard or an instrumented
/// future in its body. Attributes, visibility and signature are emitted as written.
pub(crate) fn gen_function(args: &MeasureArgs, measured: &MeasuredFn) -> TokenStream {
    let MeasuredFn { outer_attrs, inner_attrs, vis, sig, body } = measured;
    let shape = Shape::of(measured);
    let kind = match shape {
        Shape::Sync => quote!(Sync),
        Shape::AsyncFn | Shape::ReturnsFuture(_) => quote!(Async),
    };
    let callsite = gen_callsite(args, &kind);
    let body = match shape {
        Shape::Sync => gen_sync_body(&sig.output, body),
        Shape::AsyncFn => {
            // The fake return edge makes the new async block's output the declared return
            // type from its first statement, so `?` and `return` in the body infer as they
            // did in the `async fn` itself.
            let edge = fake_return_edge(&sig.output);
            let block = body_tokens(body);
            quote! {
                ::perfscope::__private::instrument(&__PERFSCOPE_CALLSITE, async move {
                    #edge
                    #block
                })
                .await
            }
        }
        Shape::ReturnsFuture(block) => {
            let mut block = block.clone();
            instrument_tail(&mut block);
            block.into_token_stream()
        }
    };
    quote! {
        #(#outer_attrs)*
        #vis #sig {
            #(#inner_attrs)*
            #callsite
            #body
        }
    }
}

/// `#[measure_all]`'s container with `#[::perfscope::measure]` on every function in it (with
/// `measure`: the `off` feature only strips the `#[skip]`s). A function marked `#[skip]` is
/// left alone (the marker removed), as are one already under `#[measure]` and a `const fn`,
/// which cannot be measured. In a module: its free functions, the methods of its `impl` blocks
/// and, recursively, its inline modules; an `impl` block or module marked `#[skip]` is left
/// out whole. Trait definitions and functions nested in bodies are not touched.
pub(crate) fn gen_all(container: Container, measure: bool) -> TokenStream {
    match container {
        Container::Impl(mut block) => {
            measure_impl(&mut block, measure);
            block.into_token_stream()
        }
        Container::Mod(mut module) => {
            measure_mod(&mut module, measure);
            module.into_token_stream()
        }
    }
}

/// Removes the `#[skip]` markers from `attrs`; whether there was one.
fn take_skip(attrs: &mut Vec<syn::Attribute>) -> bool {
    let before = attrs.len();
    attrs.retain(|attr| !is_perfscope_attr(attr, "skip"));
    attrs.len() != before
}

/// Puts `#[::perfscope::measure]` first on a function's attributes unless it is skipped,
/// measured already, or a `const fn`.
fn measure_fn(attrs: &mut Vec<syn::Attribute>, sig: &syn::Signature, measure: bool) {
    if take_skip(attrs)
        || !measure
        || sig.constness.is_some()
        || attrs.iter().any(|attr| is_perfscope_attr(attr, "measure"))
    {
        return;
    }
    attrs.insert(0, syn::parse_quote!(#[::perfscope::measure]));
}

fn measure_impl(block: &mut syn::ItemImpl, measure: bool) {
    for item in &mut block.items {
        if let syn::ImplItem::Fn(method) = item {
            measure_fn(&mut method.attrs, &method.sig, measure);
        }
    }
}

fn measure_mod(module: &mut syn::ItemMod, measure: bool) {
    let Some((_, items)) = &mut module.content else { return };
    for item in items {
        match item {
            Item::Fn(function) => measure_fn(&mut function.attrs, &function.sig, measure),
            Item::Impl(block) => {
                if take_skip(&mut block.attrs) {
                    continue;
                }
                measure_impl(block, measure);
            }
            Item::Mod(inner) => {
                if take_skip(&mut inner.attrs) {
                    continue;
                }
                measure_mod(inner, measure);
            }
            _ => {}
        }
    }
}

/// The item unchanged, preceded by the error: the error is the only one the user sees, instead
/// of it and then every use of a function that would have disappeared.
pub(crate) fn with_error(error: &syn::Error, item: TokenStream) -> TokenStream {
    let mut out = error.to_compile_error();
    out.extend(item);
    out
}

/// What the body of the measured function looks like, hence what gets measured.
enum Shape<'a> {
    /// A plain function: a guard measures the call, until return or unwind.
    Sync,
    /// An `async fn`: its body becomes an instrumented `async move` block.
    AsyncFn,
    /// A function whose body ends in an `async` block, bare (`-> impl Future`) or in
    /// `Box::pin(..)` (what `#[async_trait]` generates): that future is instrumented, so
    /// polls, wall time and cancellation are measured rather than the future's creation.
    ReturnsFuture(&'a Block),
}

impl<'a> Shape<'a> {
    fn of(measured: &'a MeasuredFn) -> Self {
        if measured.sig.asyncness.is_some() {
            return Shape::AsyncFn;
        }
        match &measured.body {
            FnBody::Parsed(block) if tail_future(block).is_some() => Shape::ReturnsFuture(block),
            _ => Shape::Sync,
        }
    }
}

/// The async block a body ends with, bare or as the only argument of `Box::pin`.
fn tail_future(block: &Block) -> Option<&ExprAsync> {
    let Some(Stmt::Expr(tail, None)) = block.stmts.last() else {
        return None;
    };
    match tail {
        Expr::Async(future) => Some(future),
        Expr::Call(call) if is_box_pin(&call.func) && call.args.len() == 1 => match &call.args[0] {
            Expr::Async(future) => Some(future),
            _ => None,
        },
        _ => None,
    }
}

/// `Box::pin`, `std::boxed::Box::pin`, `::alloc::boxed::Box::pin`, ...
fn is_box_pin(func: &Expr) -> bool {
    let Expr::Path(path) = func else {
        return false;
    };
    let mut segments = path.path.segments.iter().rev();
    matches!(
        (segments.next(), segments.next()),
        (Some(pin), Some(boxed)) if pin.ident == "pin" && boxed.ident == "Box"
    )
}

/// Wraps the body's tail future (bare or in `Box::pin`) in `instrument`.
///
/// Unlike the `async fn` case, no fake return edge goes in: a tail `async` block's output is
/// inferred from its body alone, instrumented or not, so the same code compiles with and
/// without the `off` feature.
fn instrument_tail(block: &mut Block) {
    let Some(Stmt::Expr(tail, None)) = block.stmts.last_mut() else {
        return;
    };
    let future = match tail {
        Expr::Call(call) if is_box_pin(&call.func) => match call.args.first_mut() {
            Some(arg) => arg,
            None => return,
        },
        tail => tail,
    };
    if let Expr::Async(async_block) = future {
        let span = async_block.span();
        *future = Expr::Verbatim(quote_spanned! {span=>
            ::perfscope::__private::instrument(&__PERFSCOPE_CALLSITE, #async_block)
        });
    }
}

/// A sync body: a guard from the first statement. On the fall-through path the body's value is
/// bound and the guard finished explicitly, which inlines the end of the measurement into the
/// function; `return`, `?` and unwinding end it by dropping the guard. Where the value cannot be
/// bound under the declared type (`-> !`, `impl Trait` in the return type, a body syn could not
/// parse) the guard's drop alone ends the measurement.
fn gen_sync_body(output: &ReturnType, body: &FnBody) -> TokenStream {
    let guard = syn::Ident::new("__perfscope_guard", Span::mixed_site());
    let value = syn::Ident::new("__perfscope_value", Span::mixed_site());
    let block = body_tokens(body);
    let enter = quote!(let #guard = ::perfscope::__private::enter(&__PERFSCOPE_CALLSITE););
    // Code after a diverging body is unreachable: without these allows a user's
    // `deny(warnings)` would reject every measured `todo!()` (a user who *forbids*
    // `unreachable_code` cannot use `#[measure]`, as with tracing's `#[instrument]`).
    let finish = quote! {
        #[allow(unreachable_code)]
        #guard.finish();
    };
    let ty = match output {
        ReturnType::Type(_, ty) if !binds_as_written(ty) => None,
        _ if matches!(body, FnBody::Tokens { .. }) => None,
        ReturnType::Default => return quote!(#enter #block; #finish),
        ReturnType::Type(_, ty) if matches!(&**ty, Type::Tuple(t) if t.elems.is_empty()) => {
            return quote!(#enter #block; #finish);
        }
        ReturnType::Type(_, ty) => Some(ty),
    };
    match ty {
        // The statements, not the braced block: a one-line body would otherwise be a block
        // in tail position, which `unused_braces` flags in the user's code.
        None => {
            let stmts = body_stmts(body);
            quote!(#enter #stmts)
        }
        Some(ty) => quote! {
            #enter
            let #value: #ty = #block;
            #finish
            #[allow(unreachable_code)]
            return #value;
        },
    }
}

/// Whether a `let` can bind a value of return type `ty` as written: not `!` (unstable there),
/// no `impl Trait` (which a `let` cannot name, and whose bounds guide closure inference), and
/// no type macro (which may expand to either). Types passed through `macro_rules!` arrive
/// wrapped in invisible groups, which are looked through.
fn binds_as_written(ty: &Type) -> bool {
    struct Unbindable(bool);
    impl<'ast> syn::visit::Visit<'ast> for Unbindable {
        fn visit_type(&mut self, ty: &'ast Type) {
            match ty {
                Type::Never(_) | Type::ImplTrait(_) | Type::Macro(_) => self.0 = true,
                _ => syn::visit::visit_type(self, ty),
            }
        }
    }
    let mut finder = Unbindable(false);
    syn::visit::Visit::visit_type(&mut finder, ty);
    !finder.0
}

/// The callsite `static` (and the marker function its name comes from).
///
/// The marker is a sibling of the static, not nested in its initializer: an item nested in a
/// static's initializer has the static in its path, and the name must be the function's.
fn gen_callsite(args: &MeasureArgs, kind: &TokenStream) -> TokenStream {
    let (marker, name) = match &args.name {
        Some(name) => (None, quote!(::perfscope::__private::CallsiteName::Static(#name))),
        None => (
            Some(quote! {
                fn __perfscope_marker() -> &'static str {
                    ::perfscope::__private::type_name_of(__perfscope_marker)
                }
            }),
            quote!(::perfscope::__private::CallsiteName::TypePath(__perfscope_marker)),
        ),
    };
    quote! {
        #marker
        static __PERFSCOPE_CALLSITE: ::perfscope::__private::Callsite =
            ::perfscope::__private::Callsite::new(
                #name,
                ::perfscope::__private::Kind::#kind,
                ::core::module_path!(),
                ::core::file!(),
                ::core::line!(),
            );
    }
}

/// The body as written (braces with their spans, statements), without inner attributes.
fn body_tokens(body: &FnBody) -> TokenStream {
    match body {
        FnBody::Parsed(block) => block.to_token_stream(),
        FnBody::Tokens { brace, stmts } => {
            let mut out = TokenStream::new();
            brace.surround(&mut out, |out| out.extend(stmts.clone()));
            out
        }
    }
}

/// The body's statements, without their braces and inner attributes.
fn body_stmts(body: &FnBody) -> TokenStream {
    match body {
        FnBody::Parsed(block) => {
            let stmts = &block.stmts;
            quote!(#(#stmts)*)
        }
        FnBody::Tokens { stmts, .. } => stmts.clone(),
    }
}

/// An unreachable `return` of the declared type, so an `async` block's output is inferred as
/// that type (`?` conversions, `return` coercions). Empty for `-> !`, which `let` cannot name.
fn fake_return_edge(output: &ReturnType) -> TokenStream {
    let (ty, span) = match output {
        ReturnType::Default => (quote!(()), Span::call_site()),
        ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => return TokenStream::new(),
        ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            ImplTraitEraser.visit_type_mut(&mut ty);
            (ty.to_token_stream(), ty.span())
        }
    };
    quote_spanned! {span=>
        #[allow(
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::let_unit_value,
            clippy::unreachable,
            clippy::needless_return
        )]
        if false {
            let __perfscope_fake_return: #ty = ::core::unreachable!();
            return __perfscope_fake_return;
        }
    }
}

/// Replaces `impl Trait` with `_`, so a return type can be written in a `let`.
struct ImplTraitEraser;

impl VisitMut for ImplTraitEraser {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(impl_trait) = ty {
            *ty = Type::Infer(TypeInfer { underscore_token: syn::Token![_](impl_trait.span()) });
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::parse_item;

    /// Expands `#[measure(args)] item` and renders it with no spaces, for substring checks.
    fn expand(args: TokenStream, item: TokenStream) -> String {
        let args: MeasureArgs = syn::parse2(args).expect("args");
        let measured = parse_item(item).expect("item").expect("a function");
        let out = gen_function(&args, &measured);
        // Must be valid Rust.
        syn::parse2::<syn::ItemFn>(out.clone()).expect("the expansion parses as a function");
        out.to_string().replace(' ', "")
    }

    #[test]
    fn sync_fn_gets_a_callsite_and_a_guard_before_its_body() {
        let out = expand(
            quote!(),
            quote! {
                /// Docs.
                #[inline]
                pub(crate) fn add<T: Copy>(a: T, b: T) -> T where T: Default { #![allow(unused)] a }
            },
        );
        let expected = concat!(
            "#[doc=r\"Docs.\"]#[inline]pub(crate)fnadd<T:Copy>(a:T,b:T)->TwhereT:Default{",
            "#![allow(unused)]",
            "fn__perfscope_marker()->&'staticstr{",
            "::perfscope::__private::type_name_of(__perfscope_marker)}",
            "static__PERFSCOPE_CALLSITE:::perfscope::__private::Callsite=",
            "::perfscope::__private::Callsite::new(",
            "::perfscope::__private::CallsiteName::TypePath(__perfscope_marker),",
            "::perfscope::__private::Kind::Sync,",
            "::core::module_path!(),::core::file!(),::core::line!(),);",
            "let__perfscope_guard=::perfscope::__private::enter(&__PERFSCOPE_CALLSITE);",
            "let__perfscope_value:T={a};",
            "#[allow(unreachable_code)]__perfscope_guard.finish();",
            "#[allow(unreachable_code)]return__perfscope_value;}",
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn the_fall_through_path_finishes_the_guard_where_the_value_can_be_bound() {
        let finishes = |item| expand(quote!(), item).contains("__perfscope_guard.finish();");
        assert!(finishes(quote!(
            fn f() {
                work()
            }
        )));
        assert!(finishes(quote!(
            fn f() -> () {
                work()
            }
        )));
        assert!(finishes(quote!(
            fn f<'a>(s: &'a str) -> Result<&'a str, E> {
                Ok(s)
            }
        )));
        assert!(finishes(quote!(
            fn f() -> Box<dyn Fn(i32) -> i32> {
                Box::new(|x| x)
            }
        )));
        // Only the guard's drop: `!` cannot be bound by a `let`, `impl Trait` cannot be named.
        assert!(!finishes(quote!(
            fn f() -> ! {
                loop {}
            }
        )));
        assert!(!finishes(quote!(
            fn f() -> impl Fn(i32) -> i32 {
                |x| x
            }
        )));
        assert!(!finishes(quote!(
            fn f() -> Vec<impl Display> {
                vec![1]
            }
        )));
        assert!(!finishes(quote!(
            fn f() -> iter_of!(u8) {
                0..3
            }
        )));
        // What `macro_rules!` passes as `$t:ty` is an invisible group around the type.
        let group = |ty: TokenStream| {
            let group = proc_macro2::Group::new(proc_macro2::Delimiter::None, ty);
            proc_macro2::TokenTree::Group(group)
        };
        let never = group(quote!(!));
        assert!(!finishes(quote!(fn f() -> #never { loop {} })));
        let opaque = group(quote!(impl Iterator<Item = u8>));
        assert!(!finishes(quote!(fn f() -> #opaque { 0..3 })));
        let plain = group(quote!(u8));
        assert!(finishes(quote!(fn f() -> #plain { 3 })));
        let unit = expand(
            quote!(),
            quote!(
                fn f() {
                    work()
                }
            ),
        );
        assert!(unit.ends_with("{work()};#[allow(unreachable_code)]__perfscope_guard.finish();}"));
    }

    #[test]
    fn a_name_replaces_the_marker() {
        let out = expand(quote!(name = "db::query"), quote! { fn f() {} });
        assert!(out.contains("CallsiteName::Static(\"db::query\")"), "{out}");
        assert!(!out.contains("__perfscope_marker"), "{out}");
    }

    #[test]
    fn async_fn_instruments_its_body_as_an_async_block() {
        let out = expand(quote!(), quote! { async fn get(&self) -> Result<u8, E> { Ok(self.0) } });
        assert!(out.starts_with("asyncfnget(&self)->Result<u8,E>{"), "{out}");
        assert!(out.contains("Kind::Async"), "{out}");
        assert!(
            out.contains(concat!(
                "::perfscope::__private::instrument(&__PERFSCOPE_CALLSITE,asyncmove{",
                "#[allow(unreachable_code,clippy::diverging_sub_expression,",
                "clippy::let_unit_value,clippy::unreachable,clippy::needless_return)]",
                "iffalse{let__perfscope_fake_return:Result<u8,E>=::core::unreachable!();",
                "return__perfscope_fake_return;}",
                "{Ok(self.0)}}).await}",
            )),
            "{out}"
        );
    }

    #[test]
    fn fake_return_edge_erases_impl_trait_and_skips_never() {
        let out = expand(quote!(), quote! { async fn f() -> Box<impl Sized> { Box::new(1) } });
        assert!(out.contains("__perfscope_fake_return:Box<_>="), "{out}");
        let out = expand(quote!(), quote! { async fn f() -> ! { loop {} } });
        assert!(!out.contains("__perfscope_fake_return"), "{out}");
        let out = expand(quote!(), quote! { async fn f() {} });
        assert!(out.contains("__perfscope_fake_return:()="), "{out}");
    }

    #[test]
    fn impl_future_instruments_the_tail_async_block() {
        let out = expand(
            quote!(),
            quote! {
                fn f(x: u8) -> impl Future<Output = u8> + Send {
                    let y = x;
                    async move { y }
                }
            },
        );
        assert!(out.contains("Kind::Async"), "{out}");
        assert!(!out.contains("enter("), "{out}");
        assert!(
            out.ends_with(concat!(
                "{lety=x;",
                "::perfscope::__private::instrument(&__PERFSCOPE_CALLSITE,asyncmove{y})}}",
            )),
            "{out}"
        );
    }

    #[test]
    fn async_trait_body_instruments_the_pinned_block() {
        // What `#[async_trait]` turns `async fn m(&self) -> u8 { 1 }` into.
        let out = expand(
            quote!(),
            quote! {
                fn m<'life0, 'async_trait>(
                    &'life0 self,
                ) -> ::core::pin::Pin<Box<
                    dyn ::core::future::Future<Output = u8> + ::core::marker::Send + 'async_trait,
                >>
                where
                    'life0: 'async_trait,
                    Self: 'async_trait,
                {
                    Box::pin(async move {
                        let __self = self;
                        let __ret: u8 = { 1 };
                        #[allow(unreachable_code)]
                        __ret
                    })
                }
            },
        );
        let callsite = out.find("static__PERFSCOPE_CALLSITE").expect("callsite");
        let pin = out.find("Box::pin(::perfscope::__private::instrument(").expect("wrapped");
        assert!(callsite < pin, "the callsite is at the top of the body: {out}");
        assert!(out.contains("Kind::Async"), "{out}");
        assert!(!out.contains("__perfscope_fake_return"), "{out}");
        assert!(out.ends_with("#[allow(unreachable_code)]__ret}))}}"), "{out}");
    }

    #[test]
    fn other_tails_and_unparsed_bodies_are_measured_as_sync() {
        let out = expand(
            quote!(),
            quote!(
                fn f() -> Pin<Box<dyn Future<Output = ()>>> {
                    make()
                }
            ),
        );
        assert!(out.contains("Kind::Sync") && out.contains("enter("), "{out}");
        let out = expand(quote!(), quote! { fn f() -> u8 { async {}; 1 } });
        assert!(out.contains("Kind::Sync"), "{out}");

        let measured = parse_item(quote!(fn f() { let x = ; })).expect("item").expect("a fn");
        let out = gen_function(&MeasureArgs::default(), &measured).to_string().replace(' ', "");
        assert!(out.ends_with("enter(&__PERFSCOPE_CALLSITE);letx=;}"), "{out}");
    }
}
