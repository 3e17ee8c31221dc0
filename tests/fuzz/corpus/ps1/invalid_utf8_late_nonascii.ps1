Write-Host "plain ASCII at first"
Write-Host "Grüße"
