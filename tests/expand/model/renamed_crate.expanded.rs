extern crate scope as tf;
use tf::model;
/// A layer of a crate that depends on `scope` as `tf`.
pub struct Dense {
    /// Variable `kernel`: shape `[units, units]`, `random_normal(0.0, 0.5)`.
    pub kernel: tf::__private::Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: tf::__private::VariableScope,
}
impl Dense {
    /// Builds the model in the variable scope `dense`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &tf::__private::Registry,
        units: usize,
    ) -> tf::__private::Result<Self> {
        <Self as tf::__private::Model>::build_in(reg, "dense", (units,))
    }
}
#[automatically_derived]
impl tf::__private::Model for Dense {
    type Args = (usize,);
    const SCOPE: &'static str = "dense";
    const MANIFEST: &'static [tf::__private::ManifestEntry] = &[
        tf::__private::ManifestEntry::Variable(tf::__private::VarManifest {
            name: "kernel",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[units, units]"),
            initializer: ::core::option::Option::Some("random_normal(0.0, 0.5)"),
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
    ];
    fn build_in(
        __scope_reg: &tf::__private::Registry,
        __scope_name: &str,
        (units,): Self::Args,
    ) -> tf::__private::Result<Self> {
        tf::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = tf::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_kernel = __scope_reg
                    .get_variable(
                        "kernel",
                        tf::__private::VarSpec::new()
                            .shape([units, units])
                            .initializer(
                                tf::__private::Initializer::random_normal(0.0, 0.5),
                            ),
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
    fn scope(&self) -> &tf::__private::VariableScope {
        &self.__scope_handle_put_variable_scope_above_derives
    }
    fn for_each_variable(
        &self,
        __scope_f: &mut dyn ::core::ops::FnMut(&tf::__private::Variable),
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
fn main() {}
