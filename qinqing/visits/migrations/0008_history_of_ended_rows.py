"""The history index covers ended rows only: current rows have the current-duty constraint (see Assignment)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0004_helpers'),
        ('visits', '0007_lean_assignments'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='assignment',
            name='assign_history',
        ),
        migrations.AddIndex(
            model_name='assignment',
            index=models.Index(condition=models.Q(('ended_on__isnull', False)), fields=['enterprise', 'duty', 'started_on'], name='assign_history_ended'),
        ),
    ]
