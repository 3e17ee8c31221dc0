# Grüße
