//! The third-party platform's side of WeChat: the message encryption of
//! its event URL (`MsgCrypt`, WeChat's AES-256-CBC scheme) and the events
//! WeChat pushes there (the ticket, authorizations), read and written.
//! What the platform does with an event is the token engine's
//! (`crate::token::component::authorization`).

pub mod events;
pub mod msg_crypt;
