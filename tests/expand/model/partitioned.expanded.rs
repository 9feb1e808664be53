use scope::model;
/// A wide model whose tables are split in parts, as TF1's `partitioner=` splits them.
pub struct Wide {
    /// Variable `embedding`: shape `[vocab, dim]`, `random_normal(0.0, 0.1)`, in parts, partitioned by `fixed_size(2)`.
    pub embedding: ::scope::__private::PartitionedVariable,
    /// Variable `linear/weights`: shape `[vocab, 1]`, `f64`, `zeros`, in parts, partitioned by `min_max(8, 0, 256)`.
    pub linear_weights: ::scope::__private::PartitionedVariable,
    /// Variable `bias`: shape `[1]`, `zeros`.
    pub bias: ::scope::__private::Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Wide {
    /// Builds the model in the variable scope `wide`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        vocab: usize,
        dim: usize,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "wide", (vocab, dim))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Wide {
    type Args = (usize, usize);
    const SCOPE: &'static str = "wide";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "embedding",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[vocab, dim]"),
            initializer: ::core::option::Option::Some("random_normal(0.0, 0.1)"),
            partitioner: ::core::option::Option::Some("fixed_size(2)"),
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
        ::scope::__private::ManifestEntry::Scope {
            name: "linear",
            entries: &[
                ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
                    name: "weights",
                    dtype: ::core::option::Option::Some(::scope::__private::DType::F64),
                    trainable: true,
                    shape: ::core::option::Option::Some("[vocab, 1]"),
                    initializer: ::core::option::Option::Some("zeros"),
                    partitioner: ::core::option::Option::Some("min_max(8, 0, 256)"),
                    regularizer: ::core::option::Option::None,
                    constraint: ::core::option::Option::None,
                    collections: ::core::option::Option::None,
                }),
            ],
        },
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "bias",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[1]"),
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
        (vocab, dim): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_embedding = __scope_reg
                    .get_partitioned_variable(
                        "embedding",
                        ::scope::__private::VarSpec::new()
                            .shape([vocab, dim])
                            .initializer(
                                ::scope::__private::Initializer::random_normal(0.0, 0.1),
                            )
                            .partitioner(
                                ::scope::__private::Partitioner::fixed_size(2, 0),
                            ),
                    )?;
                let __scope_sub_1 = __scope_reg.variable_scope("linear").enter()?;
                let __scope_field_linear_weights = __scope_reg
                    .get_partitioned_variable(
                        "weights",
                        ::scope::__private::VarSpec::new()
                            .shape([vocab, 1])
                            .dtype(::scope::__private::DType::F64)
                            .initializer(::scope::__private::Initializer::Zeros)
                            .partitioner(
                                ::scope::__private::Partitioner::min_max(8, 0, 256),
                            ),
                    )?;
                __scope_sub_1.exit();
                let __scope_field_bias = __scope_reg
                    .get_variable(
                        "bias",
                        ::scope::__private::VarSpec::new()
                            .shape([1])
                            .initializer(::scope::__private::Initializer::Zeros),
                    )?;
                ::core::result::Result::Ok(Self {
                    embedding: __scope_field_embedding,
                    linear_weights: __scope_field_linear_weights,
                    bias: __scope_field_bias,
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
        for __scope_v in self.embedding.parts() {
            __scope_f(__scope_v);
        }
        for __scope_v in self.linear_weights.parts() {
            __scope_f(__scope_v);
        }
        __scope_f(&self.bias);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Wide {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Wide")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("embedding", &self.embedding)
            .field("linear_weights", &self.linear_weights)
            .field("bias", &self.bias)
            .finish()
    }
}
fn main() {}
