//! Connecting a node: the pool (sized for streams that hold no connection), TCP keep-alives that
//! notice a dead peer within a minute, the schema brought up to date, and the listener for the
//! other nodes' signals.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::broadcast;
use tokio_postgres::NoTls;
use tokio_util::sync::CancellationToken;

use super::{listen, migrate, Inner, PgDb};
use crate::db::{DbError, DbResult};

/// Connections per node: streams hold none (they read, then wait on the hub), so a few serve
/// thousands of agents.
const POOL_SIZE: usize = 16;
/// How long a request waits for a connection or for PostgreSQL to accept one before it is
/// answered 503.
const POOL_TIMEOUT: StdDuration = StdDuration::from_secs(5);

impl PgDb {
    /// Connects to `url` (a `postgres://` URL or a libpq key=value string), brings the schema up to
    /// date and starts listening for the other nodes.
    pub async fn connect(url: &str) -> DbResult<PgDb> {
        let mut config: tokio_postgres::Config =
            url.parse().map_err(|e| DbError::Decode(format!("the database URL: {e}")))?;
        config.application_name("lonceng-server");
        config.connect_timeout(POOL_TIMEOUT);
        // A dead peer is noticed within a minute, not after the kernel's two hours.
        config.keepalives_idle(StdDuration::from_secs(30));
        config.keepalives_interval(StdDuration::from_secs(10));
        config.keepalives_retries(3);
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        migrate::run(&pool).await?;
        let stop = CancellationToken::new();
        let (signals, _) = broadcast::channel(1024);
        let node = crate::new_secret()[..16].to_owned();
        tokio::spawn(listen::run(config, signals.clone(), node.clone(), stop.clone()));
        Ok(PgDb { inner: Arc::new(Inner { pool, node, signals, _stop: stop.drop_guard() }) })
    }
}
