//! A router behind the access token check, with the metadata route beside it.

use axum::Router;

use crate::protect::ProtectedResource;

impl ProtectedResource {
    /// `router` with every route behind [`layer`](Self::layer), and the metadata route of
    /// [`metadata_router`](Self::metadata_router) beside them, outside the check: the whole
    /// protected API in one call.
    ///
    /// Routes merged into the result afterwards are not checked; put public routes there.
    pub fn protect<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        router.layer(self.layer()).merge(self.metadata_router())
    }
}
