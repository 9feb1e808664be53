use scope::{model, variable_scope, Variable};
/// A cell.
pub struct Cell {
    /// Variable `kernel`: shape `[units, units]`.
    pub kernel: ::scope::__private::Variable,
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
            name: "kernel",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[units, units]"),
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
                let __scope_field_kernel = __scope_reg
                    .get_variable(
                        "kernel",
                        ::scope::__private::VarSpec::new().shape([units, units]),
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
impl ::core::fmt::Debug for Cell {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Cell")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("kernel", &self.kernel)
            .finish()
    }
}
/// TF1's MultiRNNCell, an optional projection, a tie.
pub struct Multi {
    /// `cell_0 .. cell_{n-1}`.
    pub cells: Vec<Cell>,
    /// Built the way tf.layers builds an unnamed layer.
    pub projection: Option<Cell>,
    /// Another model's table.
    pub table: Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Multi {
    /// Builds the model in the variable scope `multi_rnn_cell`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        n: usize,
        project: bool,
        word_table: Variable,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(
            reg,
            "multi_rnn_cell",
            (n, project, word_table),
        )
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Multi {
    type Args = (usize, bool, Variable);
    const SCOPE: &'static str = "multi_rnn_cell";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Repeated {
            pattern: "cell_{i}",
            count: "n",
            type_name: "Cell",
            manifest: <Cell as ::scope::__private::Model>::MANIFEST,
        },
        ::scope::__private::ManifestEntry::Optional {
            condition: "project",
            entry: &::scope::__private::ManifestEntry::DefaultNamed {
                base: <Cell as ::scope::__private::Model>::SCOPE,
                type_name: "Cell",
                manifest: <Cell as ::scope::__private::Model>::MANIFEST,
            },
        },
        ::scope::__private::ManifestEntry::Tied(::scope::__private::TiedManifest {
            field: "table",
            owner: "&word_table",
            shape: "[7, 4]",
            dtype: ::core::option::Option::Some(::scope::__private::DType::F32),
        }),
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (n, project, word_table): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_field_table = ::scope::__private::tied_variable(
                    __scope_reg,
                    __scope_name,
                    "table",
                    &&word_table,
                    &[7, 4],
                    ::core::option::Option::Some(::scope::__private::DType::F32),
                )?;
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
                let __scope_field_projection = if project {
                    ::core::option::Option::Some({
                        let __scope_layer = ::scope::__private::ModelScope::enter_default_name(
                            __scope_reg,
                            <Cell as ::scope::__private::Model>::SCOPE,
                        )?;
                        let __scope_args: <Cell as ::scope::__private::Model>::Args = (
                            4,
                        );
                        <Cell as ::scope::__private::Model>::build_here(
                            __scope_reg,
                            __scope_args,
                        )?
                    })
                } else {
                    ::core::option::Option::None
                };
                ::core::result::Result::Ok(Self {
                    cells: __scope_field_cells,
                    projection: __scope_field_projection,
                    table: __scope_field_table,
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
        if let ::core::option::Option::Some(__scope_m) = &self.projection {
            <Cell as ::scope::__private::Model>::for_each_variable(__scope_m, __scope_f);
        }
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Multi {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        use ::scope::__private::{DebugModelPart as _, DebugNotAModel as _};
        f.debug_struct("Multi")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("cells", (&&::scope::__private::DebugPart(&self.cells)).debug_part())
            .field(
                "projection",
                (&&::scope::__private::DebugPart(&self.projection)).debug_part(),
            )
            .field("table", &self.table)
            .finish()
    }
}
fn main() {}
