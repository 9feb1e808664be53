use scope::model;
pub struct Heads {
    /// Variable `table`: shape `[4, 2]`.
    pub table: ::scope::__private::Variable,
    /// Another model's variable, `table`, checked to have shape `[4, 2]`; not created here.
    pub output_weights: ::scope::__private::Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Heads {
    /// Builds the model in the variable scope `heads`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(reg: &::scope::__private::Registry) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "heads", ())
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Heads {
    type Args = ();
    const SCOPE: &'static str = "heads";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "table",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[4, 2]"),
            initializer: ::core::option::Option::None,
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
        ::scope::__private::ManifestEntry::Tied(::scope::__private::TiedManifest {
            field: "output_weights",
            owner: "table",
            shape: "[4, 2]",
            dtype: ::core::option::Option::None,
        }),
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_table = __scope_reg
                    .get_variable(
                        "table",
                        ::scope::__private::VarSpec::new().shape([4, 2]),
                    )?;
                let (__scope_field_table, __scope_field_output_weights) = {
                    let table = __scope_field_table;
                    let __scope_tied = ::scope::__private::tied_variable(
                        __scope_reg,
                        "",
                        "output_weights",
                        &table,
                        &[4, 2],
                        ::core::option::Option::None,
                    )?;
                    (table, __scope_tied)
                };
                ::core::result::Result::Ok(Self {
                    table: __scope_field_table,
                    output_weights: __scope_field_output_weights,
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
        __scope_f(&self.table);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Heads {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Heads")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("table", &self.table)
            .field("output_weights", &self.output_weights)
            .finish()
    }
}
fn main() {}
