//! One module per capability (http, storage, queue, automations, metrics, files, secrets, log).
