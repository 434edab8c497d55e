"""消息通知: an outbox of messages (SMS, HTTP pushes) written in the transaction and sent after it, retried."""
