//! `tf.get_variable(.., partitioner=..)`: TF's `_get_partitioned_variable`, with its names,
//! checks and errors, all-or-nothing.

use super::{check_op_name, share, Registry, Shared, VarSpec};
use crate::error::{Error, Result};
use crate::init::{stream_seed, Initializer};
use crate::partition::{
    axis_and_parts, copy_region, split, PartitionedVariable, SaveSliceInfo, Slice,
};
use crate::scope::{Reuse, VariableScope};
use crate::tensor::{format_shape, Tensor};
use crate::uniquifier::Helpers;
use crate::variable::{Registration, Variable};

/// A part about to be created: its name, its box, its initial value.
struct NewPart {
    name: String,
    slice: Slice,
    value: Tensor,
}

impl Registry {
    /// `tf.get_variable(name, .., partitioner=p)`: the partitioned variable
    /// `<current variable scope>/<name>`, made of parts `name/part_0 ..` split by the
    /// spec's partitioner (else the variable scope's default), created or reused according
    /// to the scope's reuse mode, with TF's errors:
    ///
    /// * reuse off: creates it; [`Error::PartitionedExists`] if it exists.
    /// * reuse on: returns it, checking shape, dtype and (if a partitioner is given) the
    ///   partitioning ([`Error::PartitionMismatch`]); [`Error::PartitionedNotFound`] if it
    ///   does not exist. No partitioner is needed to reuse.
    /// * `Reuse::Auto`: returns it if it exists, creates it otherwise.
    ///
    /// [`Error::UnpartitionedExists`] if an unpartitioned variable has the name. Each part is
    /// an ordinary variable in the collections, initialized on its own (scaling initializers
    /// count fans on the full shape; a value initializer is sliced) and carrying its
    /// [`SaveSliceInfo`]. A failed call changes nothing.
    ///
    /// ```
    /// use scope::partition::Partitioner;
    /// use scope::{Registry, Reuse, VarSpec};
    ///
    /// let reg = Registry::new();
    /// let spec = || VarSpec::new().shape([7, 2]).partitioner(Partitioner::fixed_size(2, 0));
    /// let a = reg.variable_scope("m").with(|_| reg.get_partitioned_variable("emb", spec()))?;
    /// let b = reg.variable_scope("m").reuse(Reuse::Yes).with(|_| {
    ///     reg.get_partitioned_variable("emb", VarSpec::new())
    /// })?;
    /// assert!(a.ptr_eq(&b));
    /// let err = reg.variable_scope("m").with(|_| reg.get_partitioned_variable("emb", spec()));
    /// assert!(err.unwrap_err().to_string().contains("Partitioned variable with name m/emb already exists"));
    /// # Ok::<(), scope::Error>(())
    /// ```
    pub fn get_partitioned_variable(
        &self,
        name: &str,
        spec: VarSpec,
    ) -> Result<PartitionedVariable> {
        self.check_name_len(name)?;
        let scope = self.with_thread(|t| t.current_and_scratch().0.clone());
        let full = if scope.name().is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", scope.name())
        };
        self.check_name_len(&full)?;
        let reuse = scope.reuse();
        let partitioner = spec
            .partitioner
            .clone()
            .or_else(|| scope.partitioner().cloned());
        let initializer = spec
            .initializer
            .clone()
            .or_else(|| scope.initializer().cloned());
        let value_init = match &initializer {
            Some(Initializer::Value(v)) => Some(v),
            _ => None,
        };
        if let (Some(explicit), Some(v)) = (spec.dtype, value_init) {
            if v.dtype() != explicit {
                return Err(Error::InitializerDtypeMismatch {
                    name: full,
                    init: v.dtype(),
                    explicit,
                });
            }
        }
        if value_init.is_some() && spec.shape.is_some() {
            return Err(Error::ConstantInitializerWithShape { name: full });
        }
        let dtype = spec
            .dtype
            .or(value_init.map(Tensor::dtype))
            .unwrap_or(scope.dtype());
        let shape = spec
            .shape
            .clone()
            .or_else(|| value_init.map(|v| v.shape().to_vec()));
        let partitions = match (&partitioner, &shape) {
            (Some(p), Some(shape)) => {
                Some(
                    p.partitions(shape, dtype)
                        .map_err(|reason| Error::Partition {
                            name: full.clone(),
                            reason,
                        })?,
                )
            }
            (Some(_), None) => {
                return Err(Error::Partition {
                    name: full,
                    reason: "Shape of a new partitioned variable must be fully defined, but \
                             instead was <unknown>."
                        .to_owned(),
                })
            }
            (None, _) if reuse == Reuse::Yes => None,
            (None, _) => {
                return Err(Error::Partition {
                    name: full,
                    reason: "no partitioner was given, and its variable scope sets none (pass \
                             `VarSpec::partitioner`, or reuse an existing one)"
                        .to_owned(),
                })
            }
        };

        let shared = self.read();
        if let Some(found) =
            check_existing(&shared, &full, reuse, &shape, dtype, &partitions, &scope)?
        {
            return Ok(found);
        }
        let (Some(partitions), Some(shape)) = (partitions, shape) else {
            return Err(Error::PartitionedNotFound {
                name: full,
                scope: scope.name().to_owned(),
            });
        };
        let (axis, num) = axis_and_parts(&partitions);
        check_other_partitioning(&shared, &full, num)?;
        drop(shared);

        let initializer = match initializer {
            Some(init) => init,
            None => Initializer::default_for(dtype),
        };
        initializer.check_dtype(&full, dtype)?;
        let attach = super::collections::Attach::new(&spec, &scope);
        attach.check(&full, dtype)?;
        let mut parts = Vec::with_capacity(num);
        for (i, slice) in split(&shape, num, axis).into_iter().enumerate() {
            let name = format!("{full}/part_{i}");
            self.check_name_len(&name)?;
            let helpers = if initializer.is_value() {
                Helpers::FromValue
            } else {
                Helpers::FromInitializer
            };
            check_op_name("", &name, Some(helpers))?;
            self.check_size(&name, &slice.shape)?;
            let value = match &initializer {
                Initializer::Value(v) => copy_region(v, &slice)?,
                init => init
                    .initialize_part(
                        &slice.shape,
                        &shape,
                        dtype,
                        stream_seed(self.inner.seed, &name),
                    )
                    .map_err(|e| super::name_variable(e, &name))?,
            };
            parts.push(NewPart { name, slice, value });
        }

        let mut shared = self.write();
        // Another thread may have made it since the look above: the same checks again.
        if let Some(found) = check_existing(
            &shared,
            &full,
            reuse,
            &Some(shape.clone()),
            dtype,
            &Some(partitions.clone()),
            &scope,
        )? {
            return Ok(found);
        }
        check_other_partitioning(&shared, &full, num)?;
        // A part that exists already (made by `get_variable` under its part name) is shared
        // as TF's `_get_single_variable` shares it; all are checked before any is created.
        let mut existing = Vec::with_capacity(num);
        for part in &parts {
            let found = match shared.stored(&part.name) {
                Some(found) => Some(share(
                    found,
                    reuse,
                    Some(&part.slice.shape),
                    dtype,
                    &part.name,
                    &scope,
                )?),
                None => None,
            };
            existing.push(found);
        }
        let helpers = if initializer.is_value() {
            Helpers::FromValue
        } else {
            Helpers::FromInitializer
        };
        // Names are claimed for every new part before any variable is made.
        let mut slots = Vec::with_capacity(num);
        for (part, found) in parts.into_iter().zip(existing) {
            slots.push(match found {
                Some(found) => Err(found),
                None => {
                    let claim = shared.claim_op_name("", &part.name, Some(helpers))?;
                    Ok((part, claim))
                }
            });
        }
        let mut vars = Vec::with_capacity(num);
        for slot in slots {
            let (part, (op_name, implicit_name)) = match slot {
                Err(found) => {
                    vars.push(found);
                    continue;
                }
                Ok(new) => new,
            };
            let stored_under_name = op_name == part.name;
            let var = Variable::registered(
                crate::variable::next_id(),
                op_name.into_boxed_str(),
                spec.trainable.unwrap_or(true),
                part.value,
                Registration {
                    stored_under_name,
                    implicit_name,
                    helpers: helpers.flag(),
                },
            );
            var.set_save_slice_info(SaveSliceInfo {
                full_name: full.clone(),
                full_shape: shape.clone(),
                slice: part.slice,
            });
            shared.attach(&var, &part.name, &attach);
            shared.register(&var, (!stored_under_name).then_some(part.name));
            vars.push(var);
        }
        let pv = PartitionedVariable::new(full.clone(), shape, dtype, partitions, vars);
        shared.partitioned.insert(full.into_boxed_str(), pv.clone());
        Ok(pv)
    }
}

/// The reuse branch of TF's `_get_partitioned_variable`: `Some` if `full` exists and may be
/// shared, an error if it exists and may not, `None` if it does not exist (and may be made).
fn check_existing(
    shared: &Shared,
    full: &str,
    reuse: Reuse,
    shape: &Option<Vec<usize>>,
    dtype: crate::DType,
    partitions: &Option<Vec<usize>>,
    scope: &VariableScope,
) -> Result<Option<PartitionedVariable>> {
    if shared.stored(full).is_some() {
        return Err(Error::UnpartitionedExists {
            name: full.to_owned(),
        });
    }
    let Some(found) = shared.partitioned.get(full) else {
        if reuse == Reuse::Yes {
            return Err(Error::PartitionedNotFound {
                name: full.to_owned(),
                scope: scope.name().to_owned(),
            });
        }
        return Ok(None);
    };
    if reuse == Reuse::No {
        return Err(Error::PartitionedExists {
            name: full.to_owned(),
            scope: scope.name().to_owned(),
        });
    }
    let mismatch = |what, specified: String, found: String| Error::PartitionMismatch {
        name: full.to_owned(),
        what,
        specified,
        found,
    };
    if let Some(shape) = shape.as_ref().filter(|s| s.as_slice() != found.shape()) {
        return Err(mismatch(
            "shape",
            format_shape(shape),
            format_shape(found.shape()),
        ));
    }
    if dtype != found.dtype() {
        return Err(mismatch(
            "dtype",
            dtype.to_string(),
            found.dtype().to_string(),
        ));
    }
    if let Some(p) = partitions
        .as_ref()
        .filter(|p| p.as_slice() != found.partitions())
    {
        return Err(mismatch(
            "partitions",
            format!("{p:?}"),
            format!("{:?}", found.partitions()),
        ));
    }
    Ok(Some(found.clone()))
}

/// TF's check that parts already in the store were not made by another partitioning.
fn check_other_partitioning(shared: &Shared, full: &str, num: usize) -> Result<()> {
    if shared.stored(&format!("{full}/part_0")).is_none() {
        return Ok(());
    }
    let reason = if shared.stored(&format!("{full}/part_{}", num - 1)).is_none() {
        format!(
            "Partitioner returned a different partitioning than what was already found.  \
             Partitioner returned {num} shards, and shard {full}/part_0 was found, but \
             {full}/part_{} was not.",
            num - 1
        )
    } else if shared.stored(&format!("{full}/part_{num}")).is_some() {
        format!(
            "Partitioner returned a different partitioning than what was already found.  \
             Partitioner returned {num} shards, and shard {full}/part_0 was found, but so was \
             the extra shard {full}/part_{num}."
        )
    } else {
        return Ok(());
    };
    Err(Error::Partition {
        name: full.to_owned(),
        reason,
    })
}

impl Shared {
    /// TF's refusal of `get_variable(name)` without a partitioner where `name` is partitioned:
    /// `name` is in the partitioned store, or `name/part_0` is a variable. `full` is the
    /// caller's scratch name, left as it was; the second probe runs only once some variable
    /// is named like a part, so an ordinary lookup pays one flag test.
    pub(super) fn shadows_partitioned(&self, full: &mut String) -> bool {
        if self.partitioned.contains_key(full.as_str()) {
            return true;
        }
        if !self.part_names {
            return false;
        }
        let len = full.len();
        full.push_str("/part_0");
        let found = self.stored(full).is_some();
        full.truncate(len);
        found
    }
}

/// Whether `name` ends in `/part_<digits>`, as the parts of a partitioned variable do.
pub(super) fn is_part_name(name: &str) -> bool {
    name.rsplit_once("/part_")
        .is_some_and(|(_, k)| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
}
