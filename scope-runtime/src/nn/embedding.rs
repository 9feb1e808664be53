//! Embedding lookup (BERT's `embedding_lookup`): rows of a `[vocab, width]` table by id, with
//! the ids checked against the table before anything is computed.

use crate::tape::{NodeId, Real, Tape};
use crate::train_error::TrainError;
use crate::variable::Variable;

/// Converts integer inputs (token ids, labels, positions) to indices, refusing any outside
/// `0..limit` with [`TrainError::OutOfRange`] naming `input` and the first bad element.
///
/// ```
/// use scope::nn::check_ids;
/// assert_eq!(check_ids("labels", [2, 0], 3)?, vec![2, 0]);
/// assert!(check_ids("labels", [0, 3], 3).is_err());
/// assert!(check_ids("labels", [-1], 3).is_err());
/// # Ok::<(), scope::TrainError>(())
/// ```
pub fn check_ids(
    input: &str,
    ids: impl IntoIterator<Item = i64>,
    limit: usize,
) -> Result<Vec<usize>, TrainError> {
    ids.into_iter()
        .enumerate()
        .map(|(index, id)| {
            usize::try_from(id)
                .ok()
                .filter(|&i| i < limit)
                .ok_or_else(|| TrainError::OutOfRange {
                    input: input.to_owned(),
                    index,
                    value: id,
                    limit,
                })
        })
        .collect()
}

/// `tf.gather(table, ids)` for an embedding `table` `[vocab, width]`: a `[ids.len(), width]`
/// node whose gradient scatters back into the table (see [`Tape::gather_variable`]; only the
/// gathered rows are copied). `input` names the ids in errors (`input_ids`).
///
/// Fails with [`TrainError::OutOfRange`] for an id outside `0..vocab`, before anything is put
/// on the tape.
pub fn embedding_lookup<T: Real>(
    tape: &mut Tape<T>,
    input: &str,
    table: &Variable,
    ids: impl IntoIterator<Item = i64>,
) -> Result<NodeId, TrainError> {
    let vocab = table.shape().first().copied().unwrap_or(0);
    let ids = check_ids(input, ids, vocab)?;
    tape.gather_variable(table, &ids)
}
