use scope::model;
/// ALBERT's sizes, reduced.
pub struct Sizes {
    pub vocab: usize,
    pub embedding: usize,
    pub hidden: usize,
}
/// A dense layer.
pub struct Dense {
    /// Variable `kernel`: shape `[inputs, units]`.
    pub kernel: ::scope::__private::Variable,
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
            name: "kernel",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[inputs, units]"),
            initializer: ::core::option::Option::None,
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
                let __scope_field_kernel = __scope_reg
                    .get_variable(
                        "kernel",
                        ::scope::__private::VarSpec::new().shape([inputs, units]),
                    )?;
                ::core::result::Result::Ok(Self {
                    kernel: __scope_field_kernel,
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
        __scope_f(&self.kernel);
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
            .field("kernel", &self.kernel)
            .finish()
    }
}
/// ALBERT's factorized embedding: `embedding_hidden_mapping_in` exists only when E != H.
pub struct Embeddings {
    /// The constructor argument `cfg`, kept as the model was built with it.
    pub cfg: Sizes,
    /// Variable `word_embeddings`: shape `[cfg.vocab, cfg.embedding]`.
    pub word_embeddings: ::scope::__private::Variable,
    /// Nested model in scope `embedding_hidden_mapping_in`; built only when `cfg.embedding != cfg.hidden`.
    pub mapping: ::core::option::Option<Dense>,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Embeddings {
    /// Builds the model in the variable scope `embeddings`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        cfg: Sizes,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "embeddings", (cfg,))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Embeddings {
    type Args = (Sizes,);
    const SCOPE: &'static str = "embeddings";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "word_embeddings",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[cfg.vocab, cfg.embedding]"),
            initializer: ::core::option::Option::None,
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
        ::scope::__private::ManifestEntry::Optional {
            condition: "cfg.embedding != cfg.hidden",
            entry: &::scope::__private::ManifestEntry::Model {
                scope: "embedding_hidden_mapping_in",
                type_name: "Dense",
                manifest: <Dense as ::scope::__private::Model>::MANIFEST,
            },
        },
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (cfg,): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_word_embeddings = __scope_reg
                    .get_variable(
                        "word_embeddings",
                        ::scope::__private::VarSpec::new()
                            .shape([cfg.vocab, cfg.embedding]),
                    )?;
                let __scope_field_mapping = if cfg.embedding != cfg.hidden {
                    ::core::option::Option::Some({
                        let __scope_args: <Dense as ::scope::__private::Model>::Args = (
                            cfg.embedding,
                            cfg.hidden,
                        );
                        <Dense as ::scope::__private::Model>::build_in(
                            __scope_reg,
                            "embedding_hidden_mapping_in",
                            __scope_args,
                        )?
                    })
                } else {
                    ::core::option::Option::None
                };
                ::core::result::Result::Ok(Self {
                    word_embeddings: __scope_field_word_embeddings,
                    mapping: __scope_field_mapping,
                    cfg,
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
        __scope_f(&self.word_embeddings);
        if let ::core::option::Option::Some(__scope_m) = &self.mapping {
            <Dense as ::scope::__private::Model>::for_each_variable(
                __scope_m,
                __scope_f,
            );
        }
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Embeddings {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        use ::scope::__private::{DebugModelPart as _, DebugNotAModel as _};
        f.debug_struct("Embeddings")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("word_embeddings", &self.word_embeddings)
            .field(
                "mapping",
                (&&::scope::__private::DebugPart(&self.mapping)).debug_part(),
            )
            .finish()
    }
}
fn main() {}
