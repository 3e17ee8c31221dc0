# Grüße 😀
Write-Host 1
