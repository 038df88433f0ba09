//! Policy KATA: the guest's capabilities, decided in the host.
