use scope::model;
/// The struct is still emitted, with every error.
pub struct Broken {
    /// Variable `layer/weights`: shape `[2, 2]`.
    pub layer_weights: ::scope::__private::Variable,
    /// Variable `biases`: `zeros`.
    pub biases: ::scope::__private::Variable,
}
const _: () = {
    impl Broken {
        pub fn new(
            _: &::scope::__private::Registry,
        ) -> ::scope::__private::Result<Self> {
            ::core::unreachable!()
        }
    }
    #[automatically_derived]
    impl ::scope::__private::Model for Broken {
        type Args = ();
        const SCOPE: &'static str = "broken";
        const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[];
        fn build_in(
            _: &::scope::__private::Registry,
            _: &str,
            _: Self::Args,
        ) -> ::scope::__private::Result<Self> {
            ::core::unreachable!()
        }
        fn scope(&self) -> &::scope::__private::VariableScope {
            ::core::unreachable!()
        }
        fn for_each_variable(
            &self,
            _: &mut dyn ::core::ops::FnMut(&::scope::__private::Variable),
        ) {
            ::core::unreachable!()
        }
    }
    #[automatically_derived]
    impl ::core::fmt::Debug for Broken {
        fn fmt(&self, _: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            ::core::unreachable!()
        }
    }
};
::core::compile_error! {
    "duplicate name `weights` in scope `broken/layer`: already used by a variable"
}
::core::compile_error! {
    "variable `biases` has no shape: give one (`[in_size, units]`), or an initializer that carries it (`value(..)`)"
}
::core::compile_error! {
    "duplicate field `layer_weights`: fields are named by their sub-scopes joined with `_`; rename one"
}
fn main() {}
