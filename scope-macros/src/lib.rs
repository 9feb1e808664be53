//! Implementation detail of the `scope` crate: the `#[variable_scope]` and `model!` macros.
//!
//! Use them through `scope`, which re-exports them.

mod ast;
mod check;
mod ctxt;
mod expand;
mod names;
mod parse;

use proc_macro::TokenStream;

/// Declares a model struct whose fields are variables in a TensorFlow 1 variable scope.
#[proc_macro_attribute]
pub fn variable_scope(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::variable_scope(args.into(), input.into()).into()
}

/// Declares model structs in a concise DSL.
#[proc_macro]
pub fn model(input: TokenStream) -> TokenStream {
    expand::model(input.into()).into()
}
