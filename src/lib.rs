#![doc = include_str!("../README.md")]
#![doc(test(attr(deny(warnings))))]

#[doc(inline)]
pub use scope_runtime::*;
