use scope::model;
/// A GPT-2 block, reduced to one variable.
pub struct Block {
    /// Variable `w`: shape `[1, width, width]`.
    pub w: ::scope::__private::Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Block {
    /// Builds the model in the variable scope `block`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        width: usize,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "block", (width,))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Block {
    type Args = (usize,);
    const SCOPE: &'static str = "block";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "w",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[1, width, width]"),
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
        (width,): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_w = __scope_reg
                    .get_variable(
                        "w",
                        ::scope::__private::VarSpec::new().shape([1, width, width]),
                    )?;
                ::core::result::Result::Ok(Self {
                    w: __scope_field_w,
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
        __scope_f(&self.w);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Block {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Block")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("w", &self.w)
            .finish()
    }
}
/// GPT-2's `model/h0 .. model/h{n-1}` and the default `layer_{i}`.
pub struct Gpt2 {
    /// Nested models in scopes `h{i}`, for `i` in `0..n`.
    pub h: ::std::vec::Vec<Block>,
    /// Nested models in scopes `layer_{i}`, for `i` in `0..n`.
    pub layer: ::std::vec::Vec<Block>,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Gpt2 {
    /// Builds the model in the variable scope `model`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        n: usize,
        width: usize,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "model", (n, width))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Gpt2 {
    type Args = (usize, usize);
    const SCOPE: &'static str = "model";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Repeated {
            pattern: "h{i}",
            count: "n",
            type_name: "Block",
            manifest: <Block as ::scope::__private::Model>::MANIFEST,
        },
        ::scope::__private::ManifestEntry::Repeated {
            pattern: "layer_{i}",
            count: "n",
            type_name: "Block",
            manifest: <Block as ::scope::__private::Model>::MANIFEST,
        },
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (n, width): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_h = {
                    let __scope_count: usize = n;
                    let mut __scope_models = ::std::vec::Vec::new();
                    for __scope_i in 0..__scope_count {
                        let __scope_element = ::scope::__private::repeated_scope_name(
                            "h{i}",
                            __scope_i,
                        );
                        let __scope_args: <Block as ::scope::__private::Model>::Args = (
                            width,
                        );
                        __scope_models
                            .push(
                                <Block as ::scope::__private::Model>::build_in(
                                    __scope_reg,
                                    &__scope_element,
                                    __scope_args,
                                )?,
                            );
                    }
                    __scope_models
                };
                let __scope_field_layer = {
                    let __scope_count: usize = n;
                    let mut __scope_models = ::std::vec::Vec::new();
                    for __scope_i in 0..__scope_count {
                        let __scope_element = ::scope::__private::repeated_scope_name(
                            "layer_{i}",
                            __scope_i,
                        );
                        let __scope_args: <Block as ::scope::__private::Model>::Args = (
                            width,
                        );
                        __scope_models
                            .push(
                                <Block as ::scope::__private::Model>::build_in(
                                    __scope_reg,
                                    &__scope_element,
                                    __scope_args,
                                )?,
                            );
                    }
                    __scope_models
                };
                ::core::result::Result::Ok(Self {
                    h: __scope_field_h,
                    layer: __scope_field_layer,
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
        for __scope_m in &self.h {
            <Block as ::scope::__private::Model>::for_each_variable(
                __scope_m,
                __scope_f,
            );
        }
        for __scope_m in &self.layer {
            <Block as ::scope::__private::Model>::for_each_variable(
                __scope_m,
                __scope_f,
            );
        }
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Gpt2 {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        use ::scope::__private::{DebugModelPart as _, DebugNotAModel as _};
        f.debug_struct("Gpt2")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("h", (&&::scope::__private::DebugPart(&self.h)).debug_part())
            .field("layer", (&&::scope::__private::DebugPart(&self.layer)).debug_part())
            .finish()
    }
}
fn main() {}
