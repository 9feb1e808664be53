use scope::partition::{PartitionedVariable, Partitioner};
use scope::variable_scope;
/// Embedding tables created in parts (`name/part_k`), as TF1's `partitioner=` makes them.
pub struct Embeddings {
    /// Three parts along the rows; the first `vocab % 3` get one more row.
    pub word: PartitionedVariable,
    /// At most 4 parts of at most 1 KiB each; TF's defaults for the rest.
    pub position: PartitionedVariable,
    /// A partitioner given as a value.
    pub extra: Option<PartitionedVariable>,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Embeddings {
    /// Builds the model in the variable scope `input`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        vocab: usize,
        dim: usize,
        split: Partitioner,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "input", (vocab, dim, split))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Embeddings {
    type Args = (usize, usize, Partitioner);
    const SCOPE: &'static str = "input";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "word",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[vocab, dim]"),
            initializer: ::core::option::Option::Some("zeros"),
            partitioner: ::core::option::Option::Some("fixed_size(3, 0)"),
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "position",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[vocab, dim]"),
            initializer: ::core::option::Option::None,
            partitioner: ::core::option::Option::Some("variable_axis_size(1024, 0, 4)"),
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
        ::scope::__private::ManifestEntry::Optional {
            condition: "dim > 1",
            entry: &::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
                name: "extra",
                dtype: ::core::option::Option::None,
                trainable: true,
                shape: ::core::option::Option::Some("[vocab, dim]"),
                initializer: ::core::option::Option::None,
                partitioner: ::core::option::Option::Some("&split"),
                regularizer: ::core::option::Option::None,
                constraint: ::core::option::Option::None,
                collections: ::core::option::Option::None,
            }),
        },
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (vocab, dim, split): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_word = __scope_reg
                    .get_partitioned_variable(
                        "word",
                        ::scope::__private::VarSpec::new()
                            .shape([vocab, dim])
                            .initializer(::scope::__private::Initializer::Zeros)
                            .partitioner(
                                ::scope::__private::Partitioner::fixed_size(3, 0),
                            ),
                    )?;
                let __scope_field_position = __scope_reg
                    .get_partitioned_variable(
                        "position",
                        ::scope::__private::VarSpec::new()
                            .shape([vocab, dim])
                            .partitioner(
                                ::scope::__private::Partitioner::variable_axis_size(
                                    1024,
                                    0,
                                    ::core::option::Option::Some(4),
                                ),
                            ),
                    )?;
                let __scope_field_extra = if dim > 1 {
                    ::core::option::Option::Some(
                        __scope_reg
                            .get_partitioned_variable(
                                "extra",
                                ::scope::__private::VarSpec::new()
                                    .shape([vocab, dim])
                                    .partitioner(
                                        ::scope::__private::value_of::<
                                            ::scope::__private::Partitioner,
                                            _,
                                        >(&split),
                                    ),
                            )?,
                    )
                } else {
                    ::core::option::Option::None
                };
                ::core::result::Result::Ok(Self {
                    word: __scope_field_word,
                    position: __scope_field_position,
                    extra: __scope_field_extra,
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
        for __scope_v in self.word.parts() {
            __scope_f(__scope_v);
        }
        for __scope_v in self.position.parts() {
            __scope_f(__scope_v);
        }
        if let ::core::option::Option::Some(__scope_p) = &self.extra {
            for __scope_v in __scope_p.parts() {
                __scope_f(__scope_v);
            }
        }
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Embeddings {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Embeddings")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("word", &self.word)
            .field("position", &self.position)
            .field("extra", &self.extra)
            .finish()
    }
}
fn main() {}
