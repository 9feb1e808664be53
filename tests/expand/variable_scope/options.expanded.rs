use scope::{variable_scope, Variable};
/// Every variable option, and no constructor arguments.
pub(crate) struct Counters {
    /// Renamed, 64-bit, not trained.
    pub(crate) step: Variable,
    /// The shape comes from the value.
    pub(crate) table: Variable,
    /// An integer constant fills an integer variable (`Initializer::ConstantInt`).
    pub(crate) sevens: Variable,
    /// TF's default initializer for floats.
    pub(crate) kernel: Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Counters {
    /// Builds the model in the variable scope `counters`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub(crate) fn new(
        reg: &::scope::__private::Registry,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "counters", ())
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Counters {
    type Args = ();
    const SCOPE: &'static str = "counters";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
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
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "table",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::None,
            initializer: ::core::option::Option::Some("value([1.0f32, 2.0, 3.0])"),
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "sevens",
            dtype: ::core::option::Option::Some(::scope::__private::DType::I32),
            trainable: true,
            shape: ::core::option::Option::Some("[2]"),
            initializer: ::core::option::Option::Some("constant(7)"),
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "kernel",
            dtype: ::core::option::Option::Some(::scope::__private::DType::F64),
            trainable: true,
            shape: ::core::option::Option::Some("[3, 3]"),
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
        (): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_step = __scope_reg
                    .get_variable(
                        "global_step",
                        ::scope::__private::VarSpec::new()
                            .shape([0usize; 0])
                            .dtype(::scope::__private::DType::I64)
                            .initializer(::scope::__private::Initializer::Zeros)
                            .trainable(false),
                    )?;
                let __scope_field_table = __scope_reg
                    .get_variable(
                        "table",
                        ::scope::__private::VarSpec::new()
                            .initializer(
                                ::scope::__private::Initializer::value([1.0f32, 2.0, 3.0]),
                            ),
                    )?;
                let __scope_field_sevens = __scope_reg
                    .get_variable(
                        "sevens",
                        ::scope::__private::VarSpec::new()
                            .shape([2])
                            .dtype(::scope::__private::DType::I32)
                            .initializer(::scope::__private::Initializer::ConstantInt(7)),
                    )?;
                let __scope_field_kernel = __scope_reg
                    .get_variable(
                        "kernel",
                        ::scope::__private::VarSpec::new()
                            .shape([3, 3])
                            .dtype(::scope::__private::DType::F64),
                    )?;
                ::core::result::Result::Ok(Self {
                    step: __scope_field_step,
                    table: __scope_field_table,
                    sevens: __scope_field_sevens,
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
        __scope_f(&self.step);
        __scope_f(&self.table);
        __scope_f(&self.sevens);
        __scope_f(&self.kernel);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Counters {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Counters")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("step", &self.step)
            .field("table", &self.table)
            .field("sevens", &self.sevens)
            .field("kernel", &self.kernel)
            .finish()
    }
}
fn main() {}
