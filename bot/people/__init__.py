"""Who is in a class and what is kept about them: joining with a code and consent
(`enrolment`), class lists and invites (`roster`, `admin`, `sheet` for QR sheets), who is
talking (`identity`), a member's own data and leaving (`privacy`), and deleting what is past
the retention period (`retention`). May use `outbox`, `plans`, `texts` and storage."""
