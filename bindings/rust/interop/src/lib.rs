// SPDX-License-Identifier: Apache-2.0
//! Nothing here: the crate holds the interop tests (tests/).
