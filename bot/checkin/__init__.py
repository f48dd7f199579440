"""The student's side without Telegram: which question comes next, storing an answer, rendering
questions and the expectations (`flow`), and the student's questions to the mentor team
(`student_questions`). May use `outbox`, `plans`, `texts` and storage."""
