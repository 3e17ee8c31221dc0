# Grüße
Write-Host "€"
