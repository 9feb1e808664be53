use scope::{variable_scope, Variable};
/// On error the struct is still emitted, helper attributes stripped, with stubs of `new`,
/// `impl Model` and `impl Debug`, next to every error.
pub struct Broken {
    pub weights: Variable,
    pub biases: Variable,
}
const _: () = {
    impl Broken {
        pub fn new(
            _: &::scope::__private::Registry,
            _: usize,
        ) -> ::scope::__private::Result<Self> {
            ::core::unreachable!()
        }
    }
    #[automatically_derived]
    impl ::scope::__private::Model for Broken {
        type Args = (usize,);
        const SCOPE: &'static str = "_bad";
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
    "unknown key `shap` in #[var(..)]; expected one of: shape, init, dtype, trainable, name, when, tied, partitioner, regularizer, constraint, collections"
}
::core::compile_error! {
    "unknown initializer `normal`; expected one of: zeros, ones, glorot_uniform, constant(value), random_normal(mean, stddev), truncated_normal(mean, stddev), random_uniform(minval, maxval), value(tensor)"
}
::core::compile_error! {
    "'_bad' is not a valid scope name: TensorFlow requires a root scope name to match ^[A-Za-z0-9.][A-Za-z0-9_.\\\\/>-]*$"
}
fn main() {}
