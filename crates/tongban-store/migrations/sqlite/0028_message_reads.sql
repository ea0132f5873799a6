-- Issue 12: messages grouped per case with an unread count. A message is unread until its
-- applicant opens the thread of its case (or the thread of messages tied to no case, case_no '').
ALTER TABLE messages ADD COLUMN read_at TEXT;
CREATE INDEX messages_unread ON messages(applicant_id, case_no, read_at);
