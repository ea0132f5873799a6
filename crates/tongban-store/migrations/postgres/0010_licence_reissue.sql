-- Whether an item re-issues the holder's licence of its type as a new version (变更, 延续,
-- 补办) or issues a new licence (核发).
ALTER TABLE item_licence_types ADD COLUMN reissue BIGINT NOT NULL DEFAULT 0;
