"""Operations: backups, restores, restore drills and data copies between databases."""
