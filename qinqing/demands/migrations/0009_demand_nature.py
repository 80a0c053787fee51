"""A demand's nature: a difficulty (困难问题, as every demand so far) or an opinion (意见建议)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('demands', '0008_seed_environment_taxonomy'),
    ]

    operations = [
        migrations.AddField(
            model_name='demand',
            name='nature',
            field=models.CharField(choices=[('problem', '困难问题'), ('opinion', '意见建议')], default='problem', max_length=10, verbose_name='性质'),
        ),
        migrations.AddIndex(
            model_name='demand',
            index=models.Index(condition=models.Q(('nature', 'opinion')), fields=['-received_at', '-id'], name='demand_opinion_received'),
        ),
    ]
