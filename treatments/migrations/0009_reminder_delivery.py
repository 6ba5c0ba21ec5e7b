from django.db import migrations, models

NO_ADDRESS_HELP = (
    "When a reminder was due and the patient had no e-mail address (not reminded). Once an address is "
    "added, a later run reminds them if the session is still ahead."
)


class Migration(migrations.Migration):

    dependencies = [
        ('treatments', '0008_history_of_scheduling_resources'),
    ]

    operations = [
        migrations.AddField(
            model_name='appointment',
            name='reminder_claimed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='appointment',
            name='reminder_no_address_at',
            field=models.DateTimeField(blank=True, help_text=NO_ADDRESS_HELP, null=True),
        ),
        migrations.AddField(
            model_name='historicalappointment',
            name='reminder_claimed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='historicalappointment',
            name='reminder_no_address_at',
            field=models.DateTimeField(blank=True, help_text=NO_ADDRESS_HELP, null=True),
        ),
    ]
