use scope::{variable_scope, Variable};
/// A cell, reduced to one variable.
pub struct Cell {
    pub bias: Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Cell {
    /// Builds the model in the variable scope `cell`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        units: usize,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "cell", (units,))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Cell {
    type Args = (usize,);
    const SCOPE: &'static str = "cell";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "bias",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[units]"),
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
        (units,): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_bias = __scope_reg
                    .get_variable(
                        "bias",
                        ::scope::__private::VarSpec::new().shape([units]),
                    )?;
                ::core::result::Result::Ok(Self {
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
        __scope_f(&self.bias);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Cell {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Cell")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("bias", &self.bias)
            .finish()
    }
}
/// TF1's `MultiRNNCell`: `cell_0 ..`, written as a pattern.
pub struct MultiCell {
    pub cells: Vec<Cell>,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl MultiCell {
    /// Builds the model in the variable scope `multi_rnn_cell`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        n: usize,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "multi_rnn_cell", (n,))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for MultiCell {
    type Args = (usize,);
    const SCOPE: &'static str = "multi_rnn_cell";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Repeated {
            pattern: "cell_{i}",
            count: "n",
            type_name: "Cell",
            manifest: <Cell as ::scope::__private::Model>::MANIFEST,
        },
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (n,): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_cells = {
                    let __scope_count: usize = n;
                    let mut __scope_models = ::std::vec::Vec::new();
                    for __scope_i in 0..__scope_count {
                        let __scope_element = ::scope::__private::repeated_scope_name(
                            "cell_{i}",
                            __scope_i,
                        );
                        let __scope_args: <Cell as ::scope::__private::Model>::Args = (
                            4,
                        );
                        __scope_models
                            .push(
                                <Cell as ::scope::__private::Model>::build_in(
                                    __scope_reg,
                                    &__scope_element,
                                    __scope_args,
                                )?,
                            );
                    }
                    __scope_models
                };
                ::core::result::Result::Ok(Self {
                    cells: __scope_field_cells,
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
        for __scope_m in &self.cells {
            <Cell as ::scope::__private::Model>::for_each_variable(__scope_m, __scope_f);
        }
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for MultiCell {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        use ::scope::__private::{DebugModelPart as _, DebugNotAModel as _};
        f.debug_struct("MultiCell")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("cells", (&&::scope::__private::DebugPart(&self.cells)).debug_part())
            .finish()
    }
}
fn main() {}
