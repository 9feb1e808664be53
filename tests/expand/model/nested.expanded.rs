use scope::model;
/// A layer.
pub struct Dense {
    /// Variable `weights`: shape `[inputs, units]`, `glorot_uniform`.
    pub weights: ::scope::__private::Variable,
    /// Variable `biases`: shape `[units]`, `f32`, `zeros`.
    pub biases: ::scope::__private::Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Dense {
    /// Builds the model in the variable scope `dense`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        inputs: usize,
        units: usize,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "dense", (inputs, units))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Dense {
    type Args = (usize, usize);
    const SCOPE: &'static str = "dense";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "weights",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[inputs, units]"),
            initializer: ::core::option::Option::Some("glorot_uniform"),
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "biases",
            dtype: ::core::option::Option::Some(::scope::__private::DType::F32),
            trainable: true,
            shape: ::core::option::Option::Some("[units]"),
            initializer: ::core::option::Option::Some("zeros"),
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (inputs, units): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_weights = __scope_reg
                    .get_variable(
                        "weights",
                        ::scope::__private::VarSpec::new()
                            .shape([inputs, units])
                            .initializer(::scope::__private::Initializer::GlorotUniform),
                    )?;
                let __scope_field_biases = __scope_reg
                    .get_variable(
                        "biases",
                        ::scope::__private::VarSpec::new()
                            .shape([units])
                            .dtype(::scope::__private::DType::F32)
                            .initializer(::scope::__private::Initializer::Zeros),
                    )?;
                ::core::result::Result::Ok(Self {
                    weights: __scope_field_weights,
                    biases: __scope_field_biases,
                    __scope_handle_put_variable_scope_above_derives: ::core::clone::Clone::clone(
                        __scope_guard.scope(),
                    ),
                })
            },
        )
    }
    fn scope(&self) -> &::scope::__private::VariableScope {
        &self.__scope_handle_put_variable_scope_above_derives
    }
    fn for_each_variable(
        &self,
        __scope_f: &mut dyn ::core::ops::FnMut(&::scope::__private::Variable),
    ) {
        __scope_f(&self.weights);
        __scope_f(&self.biases);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Dense {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Dense")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("weights", &self.weights)
            .field("biases", &self.biases)
            .finish()
    }
}
/// A model of models, with a counter.
pub struct Tower {
    /// The first layer, in the type's default scope.
    /// Nested model in its own default scope.
    pub first: Dense,
    /// Nested model in scope `second`.
    pub second: Dense,
    /// Variable `global_step`: shape `[]`, `i64`, `zeros`, not trainable.
    pub step: ::scope::__private::Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Tower {
    /// Builds the model in the variable scope `tower`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        width: usize,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "tower", (width,))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Tower {
    type Args = (usize,);
    const SCOPE: &'static str = "tower";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Model {
            scope: <Dense as ::scope::__private::Model>::SCOPE,
            type_name: "Dense",
            manifest: <Dense as ::scope::__private::Model>::MANIFEST,
        },
        ::scope::__private::ManifestEntry::Model {
            scope: "second",
            type_name: "Dense",
            manifest: <Dense as ::scope::__private::Model>::MANIFEST,
        },
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "global_step",
            dtype: ::core::option::Option::Some(::scope::__private::DType::I64),
            trainable: false,
            shape: ::core::option::Option::Some("[]"),
            initializer: ::core::option::Option::Some("zeros"),
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (width,): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_first = {
                    let __scope_args: <Dense as ::scope::__private::Model>::Args = (
                        width,
                        width,
                    );
                    <Dense as ::scope::__private::Model>::build_in(
                        __scope_reg,
                        <Dense as ::scope::__private::Model>::SCOPE,
                        __scope_args,
                    )?
                };
                let __scope_field_second = {
                    let __scope_args: <Dense as ::scope::__private::Model>::Args = (
                        width,
                        1,
                    );
                    <Dense as ::scope::__private::Model>::build_in(
                        __scope_reg,
                        "second",
                        __scope_args,
                    )?
                };
                let __scope_field_step = __scope_reg
                    .get_variable(
                        "global_step",
                        ::scope::__private::VarSpec::new()
                            .shape([0usize; 0])
                            .dtype(::scope::__private::DType::I64)
                            .initializer(::scope::__private::Initializer::Zeros)
                            .trainable(false),
                    )?;
                ::core::result::Result::Ok(Self {
                    first: __scope_field_first,
                    second: __scope_field_second,
                    step: __scope_field_step,
                    __scope_handle_put_variable_scope_above_derives: ::core::clone::Clone::clone(
                        __scope_guard.scope(),
                    ),
                })
            },
        )
    }
    fn scope(&self) -> &::scope::__private::VariableScope {
        &self.__scope_handle_put_variable_scope_above_derives
    }
    fn for_each_variable(
        &self,
        __scope_f: &mut dyn ::core::ops::FnMut(&::scope::__private::Variable),
    ) {
        <Dense as ::scope::__private::Model>::for_each_variable(&self.first, __scope_f);
        <Dense as ::scope::__private::Model>::for_each_variable(&self.second, __scope_f);
        __scope_f(&self.step);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Tower {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        use ::scope::__private::{DebugModelPart as _, DebugNotAModel as _};
        f.debug_struct("Tower")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("first", (&&::scope::__private::DebugPart(&self.first)).debug_part())
            .field(
                "second",
                (&&::scope::__private::DebugPart(&self.second)).debug_part(),
            )
            .field("step", &self.step)
            .finish()
    }
}
fn main() {}
