-- 《行政许可法》第四十二条: laws and regulations may set an item's own extension cap
-- (working days); NULL keeps the statutory 10 (15 for joint processing).
ALTER TABLE item_workflows ADD COLUMN extension_cap BIGINT;
